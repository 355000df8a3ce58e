/*-------------------------------------------------------------------------
 *
 * log_sha256.c
 *	  SHA-256 for the statement log's content hashes and chain links.
 *
 * Every logged statement costs two SHA-256 hashes of a few hundred bytes
 * at commit.  PostgreSQL's pg_cryptohash API creates an OpenSSL context
 * for each, and OpenSSL 3 looks the algorithm up in its provider tables at
 * every initialisation of a context given EVP_sha256(): measured on a
 * single-row UPDATE workload, that bookkeeping took 3.9% of the backends'
 * time against 0.2% for the hashing itself (2.1% remain: OpenSSL 3 still
 * allocates the algorithm's state at every start).  So, with OpenSSL, this file
 * fetches the algorithm once and keeps one context for the life of the
 * backend; without OpenSSL it keeps one pg_cryptohash context (PostgreSQL's
 * own implementation then, which has no such cost).
 *
 * One hash at a time: log_sha256_begin() starts over whatever an error
 * may have interrupted, and nothing hashes between a begin and its
 * final but the caller.  COPY's running hash of the data it reads spans
 * a whole statement and keeps its own pg_cryptohash context (log_copy.c).
 *
 * IDENTIFICATION
 *	  src/log/log_sha256.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#ifdef USE_OPENSSL
#include <openssl/err.h>
#include <openssl/evp.h>
#else
#include "common/cryptohash.h"
#include "utils/memutils.h"
#endif

#include "log.h"

#ifdef USE_OPENSSL
static const EVP_MD *sha256_md = NULL;
static EVP_MD_CTX *sha256_ctx = NULL;
#else
static pg_cryptohash_ctx *sha256_ctx = NULL;
#endif

#ifdef USE_OPENSSL
/* OpenSSL's reason for the failure it just reported, for errdetail(). */
static const char *
openssl_reason(void)
{
	const char *reason = ERR_reason_error_string(ERR_get_error());

	ERR_clear_error();
	return reason ? reason : "no reason given";
}
#endif

/*
 * log_sha256_begin
 *		Start a hash.
 */
void
log_sha256_begin(void)
{
#ifdef USE_OPENSSL
	if (sha256_md == NULL)
	{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
		/* before OpenSSL 3 there are no providers to look the digest up in */
		sha256_md = EVP_sha256();
#endif
		if (sha256_md == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not find the SHA-256 algorithm in OpenSSL"),
					 errdetail("%s", openssl_reason())));
	}
	if (sha256_ctx == NULL)
	{
		sha256_ctx = EVP_MD_CTX_new();
		if (sha256_ctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}
	if (EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not start a SHA-256 hash"),
				 errdetail("%s", openssl_reason())));
#else
	if (sha256_ctx == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		sha256_ctx = pg_cryptohash_create(PG_SHA256);
		MemoryContextSwitchTo(old);
	}
	if (sha256_ctx == NULL || pg_cryptohash_init(sha256_ctx) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not start a SHA-256 hash")));
#endif
}

/*
 * log_sha256_update
 *		Feed "len" bytes to the hash begun.
 */
void
log_sha256_update(const void *data, size_t len)
{
#ifdef USE_OPENSSL
	if (EVP_DigestUpdate(sha256_ctx, data, len) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 hash"),
				 errdetail("%s", openssl_reason())));
#else
	if (pg_cryptohash_update(sha256_ctx, data, len) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 hash")));
#endif
}

/*
 * log_sha256_final
 *		Finish the hash into "out" (LOG_HASH_LEN bytes).
 */
void
log_sha256_final(uint8 *out)
{
#ifdef USE_OPENSSL
	unsigned int len;

	if (EVP_DigestFinal_ex(sha256_ctx, out, &len) != 1 || len != LOG_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not finish a SHA-256 hash"),
				 errdetail("%s", openssl_reason())));
#else
	if (pg_cryptohash_final(sha256_ctx, out, LOG_HASH_LEN) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not finish a SHA-256 hash")));
#endif
}
