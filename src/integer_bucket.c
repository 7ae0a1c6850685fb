/*-------------------------------------------------------------------------
 * integer_bucket.c
 *	  Buckets of an integer time column (smallint, integer, bigint), as a
 *	  user writes them in plain SQL for TimescaleDB's time_bucket(w, t):
 *
 *		t / w * w, (t / w) * w, w * (t / w), t - t % w	 truncating
 *		t - (t % w + w) % w								 flooring
 *
 * (% or mod(), the terms of + and * in either order)
 *
 * for a constant width w >= 2.  PostgreSQL's integer division and modulo
 * truncate toward zero, so the two families differ for negative times:
 *
 *	  flooring:   bucket b (a multiple of w) holds [b, b + w - 1];
 *	  truncating: bucket b > 0 holds [b, b + w - 1], bucket b < 0 holds
 *				  [b - w + 1, b], and bucket 0 holds [-(w - 1), w - 1]:
 *				  2w - 1 times, centred on zero.
 *
 * Either way a bucket is a contiguous range of times, buckets are the
 * multiples of w and are ordered as their times are (t1 <= t2 implies
 * bucket(t1) <= bucket(t2)), which is all hybridagg needs: the times of a
 * bucket or of a range of buckets are computed from these formulas, never
 * assumed to be [b, b + w).  The arithmetic is that of the query (C
 * division truncates toward zero, as PostgreSQL's int8div does), done in
 * int64, which holds every smallint, integer and bigint.
 *
 * Times and buckets are int64.  DT_NOBEGIN (INT64_MIN) and DT_NOEND
 * (INT64_MAX) keep their meaning as the ends of every range: a range from
 * DT_NOBEGIN starts at the first time, one to DT_NOEND ends at the last.
 * With w >= 2 no bucket is INT64_MAX; INT64_MIN may be one (a multiple of
 * w), and as the lower end of a range it means the same either way.
 *
 * An integer time has no clock: there is no now() to seal against, so the
 * watermark of an integer aggregate stays at -infinity (catalog.c's
 * seal_limit), and every bucket is kept as the streaming modes keep them.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "bucket.h"
#include "util.h"

/* the largest multiple of w at or below t; false if below INT64_MIN */
static bool
multiple_at_or_below(int64 t, int64 w, int64 *result)
{
	int64		rem = t % w;

	if (rem < 0)
		return !pg_sub_s64_overflow(t, rem + w, result);
	*result = t - rem;
	return true;
}

/* the smallest multiple of w at or above t; false if above INT64_MAX */
static bool
multiple_at_or_above(int64 t, int64 w, int64 *result)
{
	int64		rem = t % w;

	if (rem > 0)
		return !pg_add_s64_overflow(t, w - rem, result);
	*result = t - rem;
	return true;
}

static int64
clamped_add(int64 a, int64 b)
{
	int64		result;

	if (pg_add_s64_overflow(a, b, &result))
		return b > 0 ? PG_INT64_MAX : PG_INT64_MIN;
	return result;
}

int64
integer_bucket_floor(const BucketSpec *spec, int64 t)
{
	int64		b;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (!spec->floors)
		return t / spec->stride * spec->stride;
	/* below the first multiple the query itself fails (out of range) */
	if (!multiple_at_or_below(t, spec->stride, &b))
		return DT_NOBEGIN;
	return b;
}

/* the first and the last time of bucket b, a multiple of w */
static void
times_of(const BucketSpec *spec, int64 b, TimeRange *range)
{
	int64		w = spec->stride;

	if (spec->floors || b > 0)
	{
		range->first = b;
		range->last = clamped_add(b, w - 1);
	}
	else if (b < 0)
	{
		range->first = clamped_add(b, -(w - 1));
		range->last = b;
	}
	else
	{
		range->first = -(w - 1);
		range->last = w - 1;
	}
}

bool
integer_bucket_times(const BucketSpec *spec, int64 b, TimeRange *range)
{
	if (b == DT_NOEND || b % spec->stride != 0)
		return false;
	times_of(spec, b, range);
	return true;
}

bool
integer_bucket_range_times(const BucketSpec *spec, int64 lo, int64 hi,
						   TimeRange *range)
{
	int64		w = spec->stride;
	int64		first_bucket;
	int64		last_bucket;
	TimeRange	times;

	/* [+infinity, +infinity): no integer bucket, only that of NULL times */
	if (lo == DT_NOEND && hi == DT_NOEND)
	{
		range->first = range->last = DT_NOEND;
		return true;
	}
	if (!multiple_at_or_above(lo, w, &first_bucket))
		return false;
	if (hi == DT_NOEND)
	{
		times_of(spec, first_bucket, &times);
		range->first = lo == DT_NOBEGIN ? DT_NOBEGIN : times.first;
		range->last = DT_NOEND;
		return true;
	}
	/* the last bucket below hi */
	if (hi == PG_INT64_MIN || !multiple_at_or_below(hi - 1, w, &last_bucket) ||
		last_bucket < first_bucket)
		return false;
	times_of(spec, first_bucket, &times);
	range->first = lo == DT_NOBEGIN ? DT_NOBEGIN : times.first;
	times_of(spec, last_bucket, &times);
	range->last = times.last;
	return true;
}

int64
integer_bucket_ceil(const BucketSpec *spec, int64 t)
{
	int64		b;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (!multiple_at_or_above(t, spec->stride, &b) || b == DT_NOEND)
		return DT_NOEND;
	return b;
}

int64
integer_bucket_next(const BucketSpec *spec, int64 b)
{
	if (b == DT_NOEND)
		return DT_NOEND;
	return integer_bucket_ceil(spec, b + 1);
}

/* ----------------------------------------------------------------
 * The forms a definition may write
 * ----------------------------------------------------------------
 */

typedef enum IntegerOp
{
	IOP_NONE,
	IOP_DIV,
	IOP_MUL,
	IOP_MINUS,
	IOP_PLUS,
	IOP_MOD
} IntegerOp;

/* the built-in integer operator a function implements, if any */
static IntegerOp
integer_op(Oid funcid)
{
	switch (funcid)
	{
		case F_INT2DIV:
		case F_INT4DIV:
		case F_INT8DIV:
		case F_INT24DIV:
		case F_INT42DIV:
		case F_INT48DIV:
		case F_INT84DIV:
		case F_INT28DIV:
		case F_INT82DIV:
			return IOP_DIV;
		case F_INT2MUL:
		case F_INT4MUL:
		case F_INT8MUL:
		case F_INT24MUL:
		case F_INT42MUL:
		case F_INT48MUL:
		case F_INT84MUL:
		case F_INT28MUL:
		case F_INT82MUL:
			return IOP_MUL;
		case F_INT2MI:
		case F_INT4MI:
		case F_INT8MI:
		case F_INT24MI:
		case F_INT42MI:
		case F_INT48MI:
		case F_INT84MI:
		case F_INT28MI:
		case F_INT82MI:
			return IOP_MINUS;
		case F_INT2PL:
		case F_INT4PL:
		case F_INT8PL:
		case F_INT24PL:
		case F_INT42PL:
		case F_INT48PL:
		case F_INT84PL:
		case F_INT28PL:
		case F_INT82PL:
			return IOP_PLUS;
		case F_INT2MOD:
		case F_INT4MOD:
		case F_INT8MOD:
		case F_MOD_INT2_INT2:
		case F_MOD_INT4_INT4:
		case F_MOD_INT8_INT8:
			return IOP_MOD;
		default:
			return IOP_NONE;
	}
}

/* a binary integer operator (or mod() call) of kind op: its two operands */
static bool
binary(Node *node, IntegerOp op, Node **left, Node **right)
{
	Oid			funcid;
	List	   *args;

	if (!function_call(node, &funcid, &args))
		return false;
	if (integer_op(funcid) != op || list_length(args) != 2)
		return false;
	*left = linitial(args);
	*right = lsecond(args);
	return true;
}

/* a widening cast between integer types, as the parser adds them */
static Node *
strip_widening(Node *node)
{
	while (IsA(node, FuncExpr) && list_length(((FuncExpr *) node)->args) == 1)
	{
		Oid			funcid = ((FuncExpr *) node)->funcid;

		if (funcid != F_INT4_INT2 && funcid != F_INT8_INT2 &&
			funcid != F_INT8_INT4)
			break;
		node = linitial(((FuncExpr *) node)->args);
	}
	return node;
}

/* an integer column of the table, under widening casts */
static Var *
integer_column(Node *node)
{
	node = strip_widening(node);
	if (!IsA(node, Var) || ((Var *) node)->varattno <= 0 ||
		((Var *) node)->varlevelsup != 0)
		return NULL;
	switch (((Var *) node)->vartype)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return (Var *) node;
		default:
			return NULL;
	}
}

/* a non-NULL integer constant, under widening casts */
static bool
integer_constant(Node *node, int64 *value)
{
	Const	   *c;

	node = strip_widening(node);
	if (!IsA(node, Const) || ((Const *) node)->constisnull)
		return false;
	c = (Const *) node;
	switch (c->consttype)
	{
		case INT2OID:
			*value = DatumGetInt16(c->constvalue);
			return true;
		case INT4OID:
			*value = DatumGetInt32(c->constvalue);
			return true;
		case INT8OID:
			*value = DatumGetInt64(c->constvalue);
			return true;
		default:
			return false;
	}
}

/* x % w for a column x: the column and w */
static bool
column_mod(Node *node, Var **column, int64 *width)
{
	Node	   *x;
	Node	   *w;

	return binary(node, IOP_MOD, &x, &w) &&
		(*column = integer_column(x)) != NULL && integer_constant(w, width);
}

static bool
same_column(Var *a, Var *b)
{
	return a->varno == b->varno && a->varattno == b->varattno;
}

bool
integer_bucket_form(Node *expr, IntegerBucketForm *form)
{
	Node	   *node = eval_const_expressions(NULL, copyObject(expr));
	Node	   *a;
	Node	   *b;
	Node	   *x;
	Node	   *w;
	Var		   *inner;
	int64		w2;
	int64		w3;

	memset(form, 0, sizeof(*form));
	/* t / w * w, w * (t / w) */
	if (binary(node, IOP_MUL, &a, &b))
	{
		if (!binary(a, IOP_DIV, &x, &w))
		{
			Node	   *swap = a;

			a = b;
			b = swap;
			if (!binary(a, IOP_DIV, &x, &w))
				return false;
		}
		form->column = integer_column(x);
		return form->column != NULL && integer_constant(w, &form->width) &&
			integer_constant(b, &w2) && w2 == form->width;
	}
	if (!binary(node, IOP_MINUS, &a, &b) ||
		(form->column = integer_column(a)) == NULL)
		return false;
	/* t - t % w */
	if (column_mod(b, &inner, &form->width))
		return same_column(inner, form->column);
	/* t - (t % w + w) % w */
	if (!binary(b, IOP_MOD, &a, &w) || !integer_constant(w, &w3) ||
		!binary(a, IOP_PLUS, &x, &w))
		return false;
	if (!column_mod(x, &inner, &form->width))
	{
		Node	   *swap = x;

		x = w;
		w = swap;
		if (!column_mod(x, &inner, &form->width))
			return false;
	}
	form->floors = true;
	return same_column(inner, form->column) &&
		integer_constant(w, &w2) && w2 == form->width && w3 == form->width;
}

/* does expr divide or take the remainder of an integer column? */
static bool
divides_column_walker(Node *node, void *context)
{
	Node	   *a;
	Node	   *b;

	if (node == NULL)
		return false;
	if ((binary(node, IOP_DIV, &a, &b) || binary(node, IOP_MOD, &a, &b)) &&
		integer_column(a) != NULL)
		return true;
	return expression_tree_walker(node, divides_column_walker, context);
}

bool
integer_bucket_near_miss(Node *expr)
{
	return divides_column_walker(expr, NULL);
}
