/*-------------------------------------------------------------------------
 * export.h
 *	  Which symbols of hybridagg.so other code can see.
 *
 * The library is built with -fvisibility=hidden (see the Makefile): only
 * what PostgreSQL looks up by name is exported, the SQL-callable functions,
 * their info records, _PG_init and the background workers' main functions,
 * so that no other symbol can clash with another loaded library's.  The
 * Makefile defines PGDLLEXPORT as default visibility, which PostgreSQL 15
 * leaves empty on Linux; PostgreSQL 16's PG_FUNCTION_INFO_V1 declares the
 * function PGDLLEXPORT too, and this header makes 15's do the same.
 * Include it after fmgr.h in every file that uses PG_FUNCTION_INFO_V1.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_EXPORT_H
#define HYBRIDAGG_EXPORT_H

#include "fmgr.h"

#if PG_VERSION_NUM < 160000
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * \
	CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable
#endif

#endif
