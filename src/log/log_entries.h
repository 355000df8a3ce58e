/*-------------------------------------------------------------------------
 *
 * log_entries.h
 *	  Column numbers of table ttpdb.log_entries (see sql/ttpdb--0.2.sql).
 *
 * IDENTIFICATION
 *	  src/log/log_entries.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TTPDB_LOG_ENTRIES_H
#define TTPDB_LOG_ENTRIES_H

#define Anum_log_entries_entry 1
#define Anum_log_entries_era 2
#define Anum_log_entries_xid 3
#define Anum_log_entries_statement_no 4
#define Anum_log_entries_committed_at 5
#define Anum_log_entries_role_id 6
#define Anum_log_entries_role_name 7
#define Anum_log_entries_kind 8
#define Anum_log_entries_statement 9
#define Anum_log_entries_parameters 10
#define Anum_log_entries_rows_affected 11
#define Anum_log_entries_tables 12
#define Anum_log_entries_table_digests 13
#define Anum_log_entries_inserted 14
#define Anum_log_entries_updated 15
#define Anum_log_entries_deleted 16
#define Anum_log_entries_transaction_ts 17
#define Anum_log_entries_statement_ts 18
#define Anum_log_entries_search_path 19
#define Anum_log_entries_deterministic 20
#define Anum_log_entries_nondeterminism 21
#define Anum_log_entries_nested 22
#define Anum_log_entries_undoes 23
#define Anum_log_entries_first_cid 24
#define Anum_log_entries_copy_sha256 25
#define Anum_log_entries_copy_bytes 26
#define Anum_log_entries_copy_data 27
#define Anum_log_entries_prev_chain 28
#define Anum_log_entries_chain 29
#define Natts_log_entries 29

#endif							/* TTPDB_LOG_ENTRIES_H */
