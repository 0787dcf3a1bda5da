// The native spawner (DESIGN §5): a runtime command spawned without forking Node. clone with
// CLONE_VM | CLONE_VFORK | CLONE_PIDFD runs the child on a small private stack in the parent's
// memory (no page-table copy, no copy-on-write faults) while the calling thread waits until the
// child has exec'd or failed. The child does only async-signal-safe work (see spawn_child). The
// exit comes back through the pidfd, polled in the calling thread's own libuv loop and reaped
// with waitid(P_PIDFD): never wait(-1), and nobody else's child is touched.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "addon.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// The child's stack: it runs only spawn_child (no recursion, no large frames).
#define CHILD_STACK_SIZE (64 * 1024)
#define KERNEL_SIGSET_BYTES 8
#define LAST_SIGNAL 64

// What the child needs, prepared by the parent (the child may not allocate).
typedef struct {
  const char *file;
  char *const *argv;
  char *const *envp;
  int fds[3];        // -1 for stdin: /dev/null
  int mntns_fd;      // -1: stay in our mount namespace
  pid_t parent;      // the launcher's pid: the child checks it is still its parent
  volatile int err;  // set by the child when it fails before or at exec (shared memory)
  volatile int stage;  // which step failed (for the message)
} spawn_args_t;

enum { STAGE_EXEC = 0, STAGE_PDEATHSIG, STAGE_PARENT_GONE, STAGE_SETNS, STAGE_STDIO, STAGE_CLOSE };
static const char *const STAGE_NAMES[] = {"spawn", "prctl", "getppid", "setns", "dup2", "close_range"};

// The kernel's struct sigaction (rt_sigaction), so every signal (glibc's internal ones too) is reset.
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

static int fail_in_child(spawn_args_t *a, int stage) {
  a->err = errno == 0 ? EINVAL : errno;
  a->stage = stage;
  _exit(127);
}

// Moves `from` onto `target` (0, 1, 2) without CLOEXEC; `from` is >= 3 or already `target`.
static int place_fd(int from, int target) {
  if (from == target) return fcntl(target, F_SETFD, 0);
  return dup2(from, target) < 0 ? -1 : 0;
}

// Runs in the vfork child, on its own stack, in the parent's memory: async-signal-safe calls only,
// no allocation, nothing that touches state a suspended parent thread might hold (locks, malloc).
static int spawn_child(void *arg) {
  spawn_args_t *a = arg;
  // Every handler back to its default (the parent's would run in its memory), then an empty mask.
  struct kernel_sigaction dfl = {.handler = SIG_DFL};
  for (int sig = 1; sig <= LAST_SIGNAL; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, KERNEL_SIGSET_BYTES);
  }
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, KERNEL_SIGSET_BYTES);
  // The runtime dies with the launcher; if the launcher died before the prctl, nobody would signal us.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return fail_in_child(a, STAGE_PDEATHSIG);
  if (getppid() != a->parent) {
    errno = ESRCH;
    return fail_in_child(a, STAGE_PARENT_GONE);
  }
  if (a->mntns_fd >= 0 && setns(a->mntns_fd, CLONE_NEWNS) != 0) return fail_in_child(a, STAGE_SETNS);
  // Sources below 3 that are not their own target are first moved up, so no dup2 clobbers another's.
  int fds[3];
  for (int i = 0; i < 3; i++) {
    fds[i] = a->fds[i];
    if (fds[i] < 0) fds[i] = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
    else if (fds[i] < 3 && fds[i] != i) fds[i] = fcntl(fds[i], F_DUPFD, 3);
    if (fds[i] < 0) return fail_in_child(a, STAGE_STDIO);
  }
  for (int i = 0; i < 3; i++) {
    if (place_fd(fds[i], i) != 0) return fail_in_child(a, STAGE_STDIO);
  }
  // Exactly the three fds cross the exec: everything else is closed, CLOEXEC or not.
  if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
    if (errno != ENOSYS) return fail_in_child(a, STAGE_CLOSE);
    struct rlimit limit;
    long max = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
    for (long fd = 3; fd < max; fd++) close((int)fd);
  }
  errno = 0;
  execve(a->file, a->argv, a->envp);
  return fail_in_child(a, STAGE_EXEC);
}

// --- the handle JS holds for one spawned process ---------------------------------------------

typedef struct {
  js_poll_t js;  // first: freeing the poll handle's owner frees the child handle
  pid_t pid;
  int pidfd;  // -1 once reaped
} child_t;

static void on_child_poll_closed(js_poll_t *p) {
  child_t *c = (child_t *)p;
  if (c->pidfd >= 0) {  // the loop closed us before the exit (a worker that ends): no fd leaks
    close(c->pidfd);
    c->pidfd = -1;
  }
}

static void child_finalize(napi_env env, void *data, void *hint) { js_poll_finalize(data); }

// The thread's environment is ending (a worker terminated) before the child's exit came: close the
// poll handle (or the loop could not close) and the pidfd. The child dies by its parent-death signal.
static void child_cleanup(void *arg) {
  child_t *c = arg;
  if (c->pidfd < 0) return;
  close(c->pidfd);
  c->pidfd = -1;
  js_poll_release(&c->js);
}

// The pidfd is readable: the child has exited. Reap it by its pidfd, then call onExit(kind, value).
static void on_child_readable(uv_poll_t *handle, int status, int events) {
  child_t *c = handle->data;
  if (c->pidfd < 0) return;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  long rc;
  do rc = syscall(SYS_waitid, P_PIDFD, c->pidfd, &info, WEXITED | WNOHANG | __WALL, NULL);
  while (rc < 0 && errno == EINTR);
  if (rc == 0 && info.si_pid == 0) return;  // spurious: still running
  int kind, value;
  if (rc != 0) {
    kind = 2;  // not ours to reap (cannot happen for our own child): status unknown
    value = errno;
  } else if (info.si_code == CLD_EXITED) {
    kind = 0;
    value = info.si_status;
  } else {
    kind = 1;
    value = info.si_status;
  }
  close(c->pidfd);
  c->pidfd = -1;
  napi_env env = c->js.env;
  napi_remove_env_cleanup_hook(env, child_cleanup, c);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, resource, argv[2];
  napi_get_reference_value(env, c->js.callback, &callback);
  napi_get_reference_value(env, c->js.resource, &resource);
  napi_create_int32(env, kind, &argv[0]);
  napi_create_int32(env, value, &argv[1]);
  napi_async_context context = c->js.async_context;
  c->js.async_context = NULL;  // destroyed below, after the call
  js_poll_release(&c->js);
  js_poll_call(env, context, resource, callback, 2, argv);
  napi_async_destroy(env, context);
  napi_close_handle_scope(env, scope);
}

// --- argument conversion ---------------------------------------------------------------------

static char *copy_string(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text != NULL) napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char **strings) {
  if (strings == NULL) return;
  for (char **s = strings; *s != NULL; s++) free(*s);
  free(strings);
}

// A NULL-terminated copy of a JS array of strings (head first when given), or NULL (exception set).
static char **copy_string_array(napi_env env, napi_value array, const char *head) {
  uint32_t length;
  if (napi_get_array_length(env, array, &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected an array of strings");
    return NULL;
  }
  uint32_t offset = head != NULL ? 1 : 0;
  char **strings = calloc(length + offset + 1, sizeof *strings);
  if (strings == NULL) return NULL;
  if (head != NULL && (strings[0] = strdup(head)) == NULL) goto fail;
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok) goto fail;
    if ((strings[i + offset] = copy_string(env, item)) == NULL) {
      napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected an array of strings");
      goto fail;
    }
  }
  return strings;
fail:
  free_strings(strings);
  return NULL;
}

// Throws a spawn failure shaped like Node's: code, errno, syscall 'spawn <file>' (and the step), path.
static napi_value throw_spawn_error(napi_env env, int err, const char *stage, const char *file) {
  size_t size = strlen(file) + 64;
  char *syscall_name = malloc(size);
  if (syscall_name == NULL) return throw_errno(env, err, "spawn");
  if (strcmp(stage, "spawn") == 0) snprintf(syscall_name, size, "spawn %s", file);
  else snprintf(syscall_name, size, "spawn %s (%s)", file, stage);
  napi_value error = make_errno_error(env, err, syscall_name), path;
  free(syscall_name);
  napi_create_string_utf8(env, file, NAPI_AUTO_LENGTH, &path);
  napi_set_named_property(env, error, "path", path);
  napi_throw(env, error);
  return NULL;
}

// spawn(file, args, env, [stdin, stdout, stderr], mountNamespace | null, onExit) -> [pid, handle].
// args excludes argv[0] (file is used). stdin -1 means /dev/null. onExit(kind, value) runs once
// in this thread's event loop: kind 0 exited (value = code), 1 signaled (value = signo).
// Throws an errno error (code, errno, syscall, path) when the process could not be spawned.
napi_value native_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) return NULL;
  napi_value result = NULL;
  char *file = copy_string(env, argv[0]);
  char **args = NULL, **envp = NULL, *mntns_path = NULL;
  int mntns_fd = -1;
  void *stack = MAP_FAILED;
  if (file == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: spawn takes a file path");
    goto done;
  }
  if ((args = copy_string_array(env, argv[1], file)) == NULL) goto done;
  if ((envp = copy_string_array(env, argv[2], NULL)) == NULL) goto done;
  spawn_args_t a;
  memset(&a, 0, sizeof a);
  for (uint32_t i = 0; i < 3; i++) {
    napi_value item;
    int32_t fd;
    if (napi_get_element(env, argv[3], i, &item) != napi_ok || !get_int(env, item, &fd)) goto done;
    a.fds[i] = fd;
  }
  napi_valuetype ns_type;
  napi_typeof(env, argv[4], &ns_type);
  if (ns_type == napi_string) {
    if ((mntns_path = copy_string(env, argv[4])) == NULL) goto done;
    mntns_fd = open(mntns_path, O_RDONLY | O_CLOEXEC);
    if (mntns_fd < 0) {
      throw_spawn_error(env, errno, "open mount namespace", mntns_path);
      goto done;
    }
  }
  stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    throw_spawn_error(env, errno, "mmap", file);
    goto done;
  }
  a.file = file;
  a.argv = args;
  a.envp = envp;
  a.mntns_fd = mntns_fd;
  a.parent = getpid();
  a.err = 0;
  a.stage = STAGE_EXEC;
  // No handler of ours may run in the child (it shares our memory): block all, the child resets.
  uint64_t all = ~(uint64_t)0, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KERNEL_SIGSET_BYTES);
  int pidfd = -1;
  pid_t pid = clone(spawn_child, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &a, &pidfd);
  int clone_errno = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KERNEL_SIGSET_BYTES);
  if (pid < 0) {
    throw_spawn_error(env, clone_errno, "clone", file);
    goto done;
  }
  if (a.err != 0) {
    // The child failed before or at exec and has exited: reap it, then say why.
    siginfo_t ignored;
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &ignored, WEXITED | __WALL, NULL) < 0 && errno == EINTR) {
    }
    close(pidfd);
    throw_spawn_error(env, a.err, STAGE_NAMES[a.stage], file);
    goto done;
  }
  child_t *c = calloc(1, sizeof *c);
  uv_loop_t *loop;
  if (c == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &c->js.poll, pidfd) != 0) {
    // Cannot watch it: kill and reap it now rather than leave it unwatched.
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    siginfo_t ignored;
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &ignored, WEXITED | __WALL, NULL) < 0 && errno == EINTR) {
    }
    close(pidfd);
    free(c);
    throw_spawn_error(env, ENOMEM, "uv_poll_init", file);
    goto done;
  }
  c->js.env = env;
  c->pid = pid;
  c->pidfd = pidfd;
  c->js.poll.data = c;
  c->js.on_handle_closed = on_child_poll_closed;
  napi_value external, name, pid_value;
  napi_create_reference(env, argv[5], 1, &c->js.callback);
  napi_create_external(env, c, child_finalize, NULL, &external);
  napi_create_reference(env, external, 1, &c->js.resource);
  napi_create_string_utf8(env, "salvo:spawn", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, external, name, &c->js.async_context);
  uv_poll_start(&c->js.poll, UV_READABLE, on_child_readable);
  napi_add_env_cleanup_hook(env, child_cleanup, c);
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, pid, &pid_value);
  napi_set_element(env, result, 0, pid_value);
  napi_set_element(env, result, 1, external);
done:
  if (stack != MAP_FAILED) munmap(stack, CHILD_STACK_SIZE);
  if (mntns_fd >= 0) close(mntns_fd);
  free(mntns_path);
  free_strings(envp);
  free_strings(args);
  free(file);
  return result;
}

// spawnSignal(handle, signo): pidfd_send_signal to a spawned process; false once it was reaped
// (its pid may be someone else's by now, so nothing is sent).
napi_value native_spawn_signal(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  child_t *c = NULL;
  int32_t signo;
  if (napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || c == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected a spawn handle");
    return NULL;
  }
  if (!get_int(env, argv[1], &signo)) return NULL;
  napi_value sent;
  if (c->pidfd < 0) {
    napi_get_boolean(env, false, &sent);
    return sent;
  }
  if (syscall(SYS_pidfd_send_signal, c->pidfd, signo, NULL, 0) != 0 && errno != ESRCH) {
    return throw_errno(env, errno, "pidfd_send_signal");
  }
  napi_get_boolean(env, true, &sent);
  return sent;
}
