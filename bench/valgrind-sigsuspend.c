/*
 * Lets valgrind 3.19 (Debian 12) run a `kvorum` node; bench/instructions.sh
 * preloads it into the nodes it runs under callgrind.
 *
 * `kvorum` has an async main, so the Swift runtime parks the main thread in
 * libdispatch's dispatch_main(), which loops on sigsuspend() with a pointer
 * to a signal set in libdispatch's read-only data. valgrind 3.19 dies on
 * that call ("VALGRIND INTERNAL ERROR: Valgrind received a signal 11",
 * faulting at that address) before the node serves anything. This
 * sigsuspend() passes the kernel a copy of the same set on the stack, which
 * valgrind handles; the behaviour is unchanged.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
