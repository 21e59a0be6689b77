// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_offsets - print the module parameters kmlb.ko needs, found in the
 * running kernel's BTF (/sys/kernel/btf/vmlinux) and /proc/kallsyms.
 *
 *   insmod kmlb.ko $(kmlb_offsets) mode=shadow
 *
 * Every entry of kmlb_offsets.h must be found, with the member size the
 * module reads, or this prints what is missing and exits 1 (the module
 * would refuse to load without it anyway); the optional ones (members and
 * symbols only some kernels have) print -1 or 0 when absent, and the module
 * checks that against the kernel it was built for. An enumerator renamed
 * between kernels is looked up under each of its names. Runs as root in
 * the guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "../kmlb_offsets.h"

static int failures;

/*
 * The byte offset of member mname in the struct or union type id, searched
 * in anonymous struct and union members too (struct rq's donor shares an
 * anonymous union with curr without proxy execution); -1 when absent, -2
 * (a failure, reported) when it is a bit field or of another size.
 */
static long find_member(const struct btf *btf, int id, const char *sname,
			const char *mname, long want_bytes, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m = btf_members(t);
	int i;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		long bits = btf_member_bit_offset(t, i);
		const char *name = btf__name_by_offset(btf, m->name_off);
		long size, inner;

		if (!name[0] && depth < 4) {
			int mid = btf__resolve_type(btf, m->type);
			const struct btf_type *mt = mid > 0 ? btf__type_by_id(btf, mid) : NULL;

			if (!mt || !(btf_is_struct(mt) || btf_is_union(mt)))
				continue;
			inner = find_member(btf, mid, sname, mname, want_bytes, depth + 1);
			if (inner == -2)
				return -2;
			if (inner >= 0)
				return bits / 8 + inner;
			continue;
		}
		if (strcmp(name, mname))
			continue;
		if (bits % 8 || btf_member_bitfield_size(t, i)) {
			fprintf(stderr, "kmlb_offsets: %s.%s is a bit field\n",
				sname, mname);
			return -2;
		}
		size = btf__resolve_size(btf, m->type);
		if (want_bytes > 0 && size != want_bytes) {
			fprintf(stderr,
				"kmlb_offsets: %s.%s has %ld bytes, the module reads %ld\n",
				sname, mname, size, want_bytes);
			return -2;
		}
		return bits / 8;
	}
	return -1;
}

/* The member's byte offset; -1 (a failure unless optional) when absent. */
static long member_offset(const struct btf *btf, const char *sname,
			  const char *mname, long want_bytes, int optional)
{
	long off;
	int id;

	id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	if (id < 0) {
		fprintf(stderr, "kmlb_offsets: struct %s not in BTF\n", sname);
		failures++;
		return -1;
	}
	off = find_member(btf, id, sname, mname, want_bytes, 0);
	if (off == -2) {
		failures++;
		return -1;
	}
	if (off >= 0 || optional)
		return off;
	fprintf(stderr, "kmlb_offsets: %s has no member %s\n", sname, mname);
	failures++;
	return -1;
}

/* 1 if the pointer member points to a struct or union, 0 to a pointer, -1 otherwise. */
static long member_points_to_struct(const struct btf *btf, const char *sname, const char *mname)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT), i;
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		goto bad;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt;
		int tid;

		if (strcmp(btf__name_by_offset(btf, m->name_off), mname))
			continue;
		tid = btf__resolve_type(btf, m->type);
		mt = tid > 0 ? btf__type_by_id(btf, tid) : NULL;
		if (!mt || !btf_is_ptr(mt))
			goto bad;
		/* skip modifiers and type tags (__percpu) down to the pointee */
		tid = mt->type;
		mt = btf__type_by_id(btf, tid);
		while (mt && (btf_is_mod(mt) || btf_is_typedef(mt) || btf_is_type_tag(mt))) {
			tid = mt->type;
			mt = btf__type_by_id(btf, tid);
		}
		if (mt && (btf_is_struct(mt) || btf_is_union(mt)))
			return 1;
		if (mt && btf_is_ptr(mt))
			return 0;
		goto bad;
	}
bad:
	fprintf(stderr, "kmlb_offsets: %s.%s is not a pointer to a struct or a pointer\n", sname, mname);
	failures++;
	return -1;
}

static long struct_size(const struct btf *btf, const char *sname)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);

	if (id < 0) {
		fprintf(stderr, "kmlb_offsets: struct %s not in BTF\n", sname);
		failures++;
		return -1;
	}
	return btf__resolve_size(btf, id);
}

/* The value of one enumerator; found is set when the BTF has it. */
static long long enumerator(const struct btf *btf, const char *name, int *found)
{
	int n = btf__type_cnt(btf), id, i;
	long long value = 0;

	*found = 0;
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (i = 0; i < btf_vlen(t); i++, e++) {
				if (strcmp(btf__name_by_offset(btf, e->name_off), name))
					continue;
				if (*found && value != e->val) {
					fprintf(stderr, "kmlb_offsets: %s is ambiguous\n", name);
					failures++;
					return -1;
				}
				value = e->val;
				*found = 1;
			}
		}
	}
	return value;
}

/* names: the enumerator's names across kernels, space-separated; the first the BTF has counts. */
static long long enum_value(const struct btf *btf, const char *names)
{
	char buf[128], *name, *save = NULL;
	long long value;
	int found;

	snprintf(buf, sizeof(buf), "%s", names);
	for (name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		value = enumerator(btf, name, &found);
		if (found)
			return value;
	}
	fprintf(stderr, "kmlb_offsets: enumerator %s not in BTF\n", names);
	failures++;
	return -1;
}

/* The symbol's address; 0 (a failure unless optional) when absent. */
static unsigned long symbol_address(const char *name, int optional)
{
	char line[512], sym[256], type;
	unsigned long addr, found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f) {
		fprintf(stderr, "kmlb_offsets: /proc/kallsyms: %s\n", strerror(errno));
		failures++;
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '['))
			continue; /* a module's symbol */
		if (sscanf(line, "%lx %c %255s", &addr, &type, sym) != 3)
			continue;
		if (strcmp(sym, name))
			continue;
		if (found && found != addr) {
			fprintf(stderr, "kmlb_offsets: symbol %s is ambiguous\n", name);
			failures++;
			fclose(f);
			return 0;
		}
		found = addr;
	}
	fclose(f);
	if (!found && !optional) {
		fprintf(stderr, "kmlb_offsets: symbol %s not in /proc/kallsyms (root?)\n",
			name);
		failures++;
	}
	return found;
}

int main(void)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf) {
		fprintf(stderr, "kmlb_offsets: cannot load the kernel's BTF: %s\n",
			strerror(errno));
		return 1;
	}
#define PRIVATE(param, s, m, bytes) \
	printf("%s=%ld ", #param, member_offset(btf, s, m, bytes, 0));
	KMLB_PRIVATE_FIELDS(PRIVATE)
#define OPTIONAL(param, s, m, bytes) \
	printf("%s=%ld ", #param, member_offset(btf, s, m, bytes, 1));
	KMLB_OPTIONAL_FIELDS(OPTIONAL)
#define SIZE(param, s) printf("%s=%ld ", #param, struct_size(btf, s));
	KMLB_PRIVATE_SIZES(SIZE)
#define KIND(param, s, m) printf("%s=%ld ", #param, member_points_to_struct(btf, s, m));
	KMLB_PRIVATE_KINDS(KIND)
#define HEADER(param, s, m) printf("%s=%ld ", #param, member_offset(btf, s, m, 0, 0));
	KMLB_HEADER_FIELDS(HEADER)
#define ENUMV(param, name) printf("%s=%lld ", #param, enum_value(btf, name));
	KMLB_ENUMS(ENUMV)
#define OPT_ENUMV(param, name) do {					\
		int found;						\
		long long v = enumerator(btf, name, &found);		\
		printf("%s=%lld ", #param, found ? v : -1LL);		\
	} while (0);
	KMLB_OPTIONAL_ENUMS(OPT_ENUMV)
#define SYMBOL(param, name) printf("%s=0x%lx ", #param, symbol_address(name, 0));
	KMLB_SYMBOLS(SYMBOL)
#define OPT_SYMBOL(param, name) printf("%s=0x%lx ", #param, symbol_address(name, 1));
	KMLB_OPTIONAL_SYMBOLS(OPT_SYMBOL)
	printf("\n");
	btf__free(btf);
	return failures ? 1 : 0;
}
