// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_probe_only.ko - the crash experiments' arm (b): the same kprobe as
 * kmlb.ko (ftrace-based, on the entry of can_migrate_task) registered at
 * insmod and unregistered at rmmod, with a pre-handler that only counts
 * and returns 0 (the kernel's function always runs, nothing else is read,
 * no instruction pointer is changed). If reload cycles crash with this
 * module, the crash does not come from kmlb's handler, its body call or
 * its return stub. See kernel/README.md ("The earlier crash").
 */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/atomic.h>

static atomic64_t kmlb_po_calls = ATOMIC64_INIT(0);

static int kmlb_po_pre(struct kprobe *kp, struct pt_regs *regs)
{
	atomic64_inc(&kmlb_po_calls);
	return 0;
}
NOKPROBE_SYMBOL(kmlb_po_pre);

static struct kprobe kmlb_po_kp = {
	.symbol_name = "can_migrate_task",
	.pre_handler = kmlb_po_pre,
};

static int __init kmlb_po_init(void)
{
	int err = register_kprobe(&kmlb_po_kp);

	if (err) {
		pr_err("kmlb_probe_only: register_kprobe: %d\n", err);
		return err;
	}
	if (!(kmlb_po_kp.flags & KPROBE_FLAG_FTRACE)) {
		/* kmlb.ko refuses this case: the experiment must use the same mechanism */
		unregister_kprobe(&kmlb_po_kp);
		pr_err("kmlb_probe_only: not an ftrace-based kprobe\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static void __exit kmlb_po_exit(void)
{
	unregister_kprobe(&kmlb_po_kp);
	pr_info("kmlb_probe_only: %lld calls, nmissed %lu\n",
		atomic64_read(&kmlb_po_calls), kmlb_po_kp.nmissed);
}

module_init(kmlb_po_init);
module_exit(kmlb_po_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmlb crash experiment: an empty kprobe on can_migrate_task");
