// salvo's native addon: the Linux calls Node has no API for (prctl, pidfd, epoll, wait4 by pid,
// mkfifo, flock, SCM_RIGHTS, TIOCSWINSZ) and the vfork spawner (spawn.c). Context-aware: workers load it too, for mkfifo.
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include "addon.h"


// Values in one reap record (see reapReady): pid, kind, value, user µs, system µs, max RSS KiB.
#define RECORD_FIELDS 6
#define KIND_EXITED 0
#define KIND_SIGNALED 1
#define KIND_NOT_CHILD 2  // gone, and not reaped by us: its status is not ours to know
#define KIND_PENDING 3    // exited, but (still) another process's child: retry later
#define MAX_EVENTS 1024

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) {                                                             \
      napi_throw_error(env, "ERR_NATIVE", "salvo addon: N-API call failed: " #call);   \
      return NULL;                                                                       \
    }                                                                                    \
  } while (0)

// An Error shaped like Node's own system errors: code, errno (negative), syscall.
napi_value make_errno_error(napi_env env, int err, const char *syscall_name) {
  const char *name = strerrorname_np(err);
  if (name == NULL) name = "EUNKNOWN";
  char message[256];
  snprintf(message, sizeof message, "%s: %s, %s", name, strerror(err), syscall_name);
  napi_value code, msg, error, errno_value, syscall_value;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  return error;
}

napi_value throw_errno(napi_env env, int err, const char *syscall_name) {
  napi_throw(env, make_errno_error(env, err, syscall_name));
  return NULL;
}

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: missing argument");
    return 0;
  }
  return 1;
}

int get_int(napi_env env, napi_value value, int32_t *out) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected an integer");
    return 0;
  }
  return 1;
}

// A string argument into buf; ENAMETOOLONG (thrown, as syscall_name's) when it does not fit.
static int get_path(napi_env env, napi_value value, char *buf, size_t size, const char *syscall_name) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, buf, size, &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected a string");
    return 0;
  }
  if (length >= size - 1) {
    throw_errno(env, ENAMETOOLONG, syscall_name);
    return 0;
  }
  return 1;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

// --- process attributes -------------------------------------------------------------------

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl");
  return NULL;
}

static napi_value is_child_subreaper(napi_env env, napi_callback_info info) {
  int flag = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl");
  napi_value result;
  napi_get_boolean(env, flag != 0, &result);
  return result;
}

static napi_value pidfd_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t pid;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &pid)) return NULL;
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return make_int(env, fd);
}

// Fills one record from a wait status and rusage.
static void fill_record(double *out, pid_t pid, int status, const struct rusage *ru) {
  out[0] = pid;
  if (WIFSIGNALED(status)) {
    out[1] = KIND_SIGNALED;
    out[2] = WTERMSIG(status);
  } else {
    out[1] = KIND_EXITED;
    out[2] = WEXITSTATUS(status);
  }
  out[3] = (double)ru->ru_utime.tv_sec * 1e6 + (double)ru->ru_utime.tv_usec;
  out[4] = (double)ru->ru_stime.tv_sec * 1e6 + (double)ru->ru_stime.tv_usec;
  out[5] = (double)ru->ru_maxrss;
}

static napi_value make_record_array(napi_env env, const double *records, size_t count) {
  napi_value buffer, array;
  void *data;
  size_t length = count * RECORD_FIELDS;
  if (napi_create_arraybuffer(env, length * sizeof(double), &data, &buffer) != napi_ok) return NULL;
  if (length > 0) memcpy(data, records, length * sizeof(double));
  if (napi_create_typedarray(env, napi_float64_array, length, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

// wait4(pid, WNOHANG): null while it runs, else a 6-value Float64Array record. Never pid -1.
static napi_value wait_pid(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t pid;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &pid)) return NULL;
  if (pid <= 0) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "salvo addon: waitPid takes one positive pid");
    return NULL;
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  pid_t got;
  do got = wait4(pid, &status, WNOHANG | __WALL, &ru);
  while (got < 0 && errno == EINTR);
  if (got < 0) return throw_errno(env, errno, "wait4");
  if (got == 0) {
    napi_value null_value;
    napi_get_null(env, &null_value);
    return null_value;
  }
  double record[RECORD_FIELDS];
  fill_record(record, got, status, &ru);
  return make_record_array(env, record, 1);
}

static napi_value make_fifo(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t mode;
  char path[4096];
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[1], &mode)) return NULL;
  if (!get_path(env, argv[0], path, sizeof path, "mkfifo")) return NULL;
  if (mkfifo(path, (mode_t)mode) != 0) return throw_errno(env, errno, "mkfifo");
  // mkfifo honours the umask; set the exact mode asked for.
  if (chmod(path, (mode_t)mode) != 0) return throw_errno(env, errno, "chmod");
  return NULL;
}

// linux/fs.h clashes with sys/mount.h: the two ioctls and the flag chattr +T sets, by value.
#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)
#define FS_IOC_SETFLAGS _IOW('f', 2, long)
#endif
#define SALVO_TOPDIR_FL 0x00020000

// chattr +T: on ext2/3/4 the subdirectories of a "top directory" are spread over the block groups
// (Orlov, as for /home) instead of crowding its own group, where every inode allocation scans the
// inodes deleted there lately (ext4 without a journal). True when set; false where not supported.
static napi_value spread_subdirectories(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char path[4096];
  bool set = false;
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, sizeof path, "open")) return NULL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
      set = (flags & SALVO_TOPDIR_FL) != 0;
      if (!set) {
        flags |= SALVO_TOPDIR_FL;
        set = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
      }
    }
    close(fd);
  }
  CHECK(napi_get_boolean(env, set, &result));
  return result;
}

// mount -t overlay, without a mount(8) process: an image's rootfs in the launcher's own mount namespace.
static napi_value mount_overlay(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char options[8192], target[4096];
  if (!get_args(env, info, 2, argv) || !get_path(env, argv[0], options, sizeof options, "mount") ||
      !get_path(env, argv[1], target, sizeof target, "mount"))
    return NULL;
  if (mount("overlay", target, "overlay", 0, options) != 0) return throw_errno(env, errno, "mount");
  return NULL;
}

// umount2(MNT_DETACH | UMOUNT_NOFOLLOW): a lazy detach skips the RCU grace period a plain umount waits for.
static napi_value unmount_detach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char target[4096];
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], target, sizeof target, "umount2")) return NULL;
  if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) != 0) return throw_errno(env, errno, "umount2");
  return NULL;
}

// The same detach on a libuv pool thread, for a container's overlay: its last reference goes with
// it, and the overlay's teardown (milliseconds, more on a busy disk) then runs on that thread at the
// syscall's return, not on the worker's event loop between starts. Resolves, or rejects with errno.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int err;
  char target[4096];
} detach_work_t;

static void detach_execute(napi_env env, void *data) {
  detach_work_t *w = data;
  w->err = umount2(w->target, MNT_DETACH | UMOUNT_NOFOLLOW) != 0 ? errno : 0;
}

static void detach_complete(napi_env env, napi_status status, void *data) {
  detach_work_t *w = data;
  if (status != napi_ok && w->err == 0) w->err = ECANCELED;
  if (w->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, w->deferred, undefined);
  } else {
    napi_reject_deferred(env, w->deferred, make_errno_error(env, w->err, "umount2"));
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

static napi_value unmount_detach_async(napi_env env, napi_callback_info info) {
  napi_value argv[1], promise, name;
  if (!get_args(env, info, 1, argv)) return NULL;
  detach_work_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "umount2");
  if (!get_path(env, argv[0], w->target, sizeof w->target, "umount2")) {
    free(w);
    return NULL;
  }
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "salvo.umount2", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, detach_execute, detach_complete, w, &w->work) != napi_ok) {
    free(w);  // a promise made before the failure is never settled nor returned
    napi_throw_error(env, "ERR_NATIVE", "salvo addon: cannot queue umount2");
    return NULL;
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    napi_throw_error(env, "ERR_NATIVE", "salvo addon: cannot queue umount2");
    return NULL;
  }
  return promise;
}

// The state directory's containers/ bound onto itself and made a shared mount (DESIGN §12): host
// mounts under it then propagate into crun's namespace. Two calls, so that a bind left unshared
// by a crash between them can be made shared alone.
static napi_value path_call(napi_env env, napi_callback_info info, int which) {
  napi_value argv[1];
  char target[4096];
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], target, sizeof target, "mount")) return NULL;
  if (which == 0 && mount(target, target, NULL, MS_BIND, NULL) != 0) return throw_errno(env, errno, "mount");
  if (which == 1 && mount(NULL, target, NULL, MS_SHARED, NULL) != 0) return throw_errno(env, errno, "mount");
  return NULL;
}
static napi_value bind_self(napi_env env, napi_callback_info info) { return path_call(env, info, 0); }
static napi_value make_shared(napi_env env, napi_callback_info info) { return path_call(env, info, 1); }

// flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another holder has it.
static napi_value try_lock(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  int rc;
  do rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock");
  napi_get_boolean(env, rc == 0, &result);
  return result;
}

// recvmsg one SCM_RIGHTS fd from a unix socket: the fd, or null when nothing is there yet.
static napi_value receive_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t sock;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &sock)) return NULL;
  char byte[256];
  struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  napi_value null_value;
  napi_get_null(env, &null_value);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return null_value;
    return throw_errno(env, errno, "recvmsg");
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return make_int(env, fd);
    }
  }
  if (got == 0) return throw_errno(env, ECONNRESET, "recvmsg");
  return throw_errno(env, EBADMSG, "recvmsg");
}

// TIOCSWINSZ on a pty master: the kernel sends SIGWINCH to the terminal's foreground group.
static napi_value set_window_size(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, cols, rows;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &cols) ||
      !get_int(env, argv[2], &rows)) {
    return NULL;
  }
  if (cols < 0 || cols > 65535 || rows < 0 || rows > 65535) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "salvo addon: columns and rows must be 0-65535");
    return NULL;
  }
  struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  int rc;
  do rc = ioctl(fd, TIOCSWINSZ, &size);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return throw_errno(env, errno, "ioctl(TIOCSWINSZ)");
  return NULL;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close");
  return NULL;
}

// --- the pidfd watcher: one epoll set, polled from the event loop -----------------------

typedef struct {
  js_poll_t js;  // first: freeing the poll handle's owner frees the watcher
  int epfd;
  int closed;  // shutdown began: no more callbacks, the epoll fd is closed
} watcher_t;

static void on_js_poll_closed(uv_handle_t *handle) {
  js_poll_t *p = handle->data;
  p->handle_closed = 1;
  if (p->on_handle_closed) p->on_handle_closed(p);
  if (p->finalized) free(p);
}

void js_poll_release(js_poll_t *p) {
  uv_poll_stop(&p->poll);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  if (p->resource) napi_delete_reference(p->env, p->resource);
  if (p->async_context) napi_async_destroy(p->env, p->async_context);
  p->callback = NULL;
  p->resource = NULL;
  p->async_context = NULL;
  uv_close((uv_handle_t *)&p->poll, on_js_poll_closed);
}

void js_poll_finalize(js_poll_t *p) {
  p->finalized = 1;
  if (p->handle_closed) free(p);
}

void js_poll_call(napi_env env, napi_async_context context, napi_value resource, napi_value callback, size_t argc,
                  napi_value *argv) {
  napi_value result;
  if (napi_make_callback(env, context, resource, callback, argc, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

static void watcher_shutdown(watcher_t *w) {
  if (w->closed) return;
  w->closed = 1;
  uv_poll_stop(&w->js.poll);
  close(w->epfd);
  w->epfd = -1;
  js_poll_release(&w->js);
}

// The JS callback runs when some watched process has exited; it calls reapReady.
static void on_readable(uv_poll_t *handle, int status, int events) {
  watcher_t *w = handle->data;
  if (w->closed) return;
  napi_env env = w->js.env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, resource;
  napi_get_reference_value(env, w->js.callback, &callback);
  napi_get_reference_value(env, w->js.resource, &resource);
  js_poll_call(env, w->js.async_context, resource, callback, 0, NULL);
  napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  watcher_t *w = data;
  watcher_shutdown(w);  // if not done yet: then the poll handle's close callback frees w
  js_poll_finalize(&w->js);
}

static napi_value watcher_create(napi_env env, napi_callback_info info) {
  napi_value argv[1], external, name;
  if (!get_args(env, info, 1, argv)) return NULL;
  watcher_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "calloc");
  w->js.env = env;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (w->epfd < 0) {
    int err = errno;
    free(w);
    return throw_errno(env, err, "epoll_create1");
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &w->js.poll, w->epfd) != 0) {
    close(w->epfd);
    free(w);
    return throw_errno(env, EINVAL, "uv_poll_init");
  }
  w->js.poll.data = w;
  uv_poll_start(&w->js.poll, UV_READABLE, on_readable);
  uv_unref((uv_handle_t *)&w->js.poll);
  CHECK(napi_create_reference(env, argv[0], 1, &w->js.callback));
  CHECK(napi_create_external(env, w, watcher_finalize, NULL, &external));
  CHECK(napi_create_reference(env, external, 1, &w->js.resource));
  CHECK(napi_create_string_utf8(env, "salvo:reaper", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, external, name, &w->js.async_context));
  return external;
}

static watcher_t *get_watcher(napi_env env, napi_value value) {
  watcher_t *w = NULL;
  if (napi_get_value_external(env, value, (void **)&w) != napi_ok || w == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "salvo addon: expected a watcher");
    return NULL;
  }
  if (w->closed) {
    napi_throw_error(env, "ERR_WATCHER_CLOSED", "salvo addon: the watcher is closed");
    return NULL;
  }
  return w;
}

// Adds a pidfd to the set; an event carries both the pidfd and the pid it stands for.
static int watch_pidfd(watcher_t *w, int fd, pid_t pid) {
  struct epoll_event event = {.events = EPOLLIN};
  event.data.u64 = ((uint64_t)(uint32_t)fd << 32) | (uint32_t)pid;
  return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &event);
}

// Opens a pidfd for pid and adds it to the set; returns the pidfd.
static napi_value watcher_add(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t pid;
  if (!get_args(env, info, 2, argv)) return NULL;
  watcher_t *w = get_watcher(env, argv[0]);
  if (w == NULL || !get_int(env, argv[1], &pid)) return NULL;
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (watch_pidfd(w, fd, pid) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "epoll_ctl");
  }
  return make_int(env, fd);
}

// Stops watching a pidfd (without reaping) and closes it.
static napi_value watcher_remove(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (!get_args(env, info, 2, argv)) return NULL;
  watcher_t *w = get_watcher(env, argv[0]);
  if (w == NULL || !get_int(env, argv[1], &fd)) return NULL;
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  return NULL;
}

// Reaps the process behind a pidfd (waitid P_PIDFD, which cannot hit a reused pid) into `out`.
// Returns its kind, or -1 while it runs. A process that exited while still another process's
// child (crun's run -d returns before its intermediate exits) is KIND_PENDING: it becomes our
// child, and waitable, once that parent exits.
static int reap_pidfd(int fd, pid_t pid, double *out) {
  siginfo_t info;
  struct rusage ru;
  memset(&info, 0, sizeof info);
  memset(&ru, 0, sizeof ru);
  long rc;
  do rc = syscall(SYS_waitid, P_PIDFD, fd, &info, WEXITED | WNOHANG | __WALL, &ru);
  while (rc < 0 && errno == EINTR);
  if (rc == 0 && info.si_pid == 0) return -1;
  if (rc == 0) {
    int status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
    fill_record(out, pid, status, &ru);
    return (int)out[1];
  }
  memset(out, 0, RECORD_FIELDS * sizeof(double));
  out[0] = pid;
  if (errno == ECHILD && syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0) {
    out[1] = KIND_PENDING;
    out[2] = fd;
    return KIND_PENDING;
  }
  out[1] = KIND_NOT_CHILD;
  return KIND_NOT_CHILD;
}

// Puts a pending pidfd back in the set: the next pass tries it again.
static napi_value watcher_retry(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t pid, fd;
  if (!get_args(env, info, 3, argv)) return NULL;
  watcher_t *w = get_watcher(env, argv[0]);
  if (w == NULL || !get_int(env, argv[1], &pid) || !get_int(env, argv[2], &fd)) return NULL;
  if (watch_pidfd(w, fd, pid) != 0 && errno != EEXIST) return throw_errno(env, errno, "epoll_ctl");
  return NULL;
}

// One non-blocking pass: every watched process that has exited is reaped through its own pidfd
// (waitid P_PIDFD with rusage) and dropped from the set. Returns a flat Float64Array of records:
// [pid, kind, value, userMicros, systemMicros, maxRssKiB] where kind 0 = exited (value = code),
// 1 = killed by a signal (value = signo), 2 = gone and not ours (status unknowable),
// 3 = exited but still another's child (value = its pidfd, now out of the set: retry it).
static napi_value watcher_reap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  watcher_t *w = get_watcher(env, argv[0]);
  if (w == NULL) return NULL;
  struct epoll_event events[MAX_EVENTS];
  size_t capacity = 0, count = 0;
  double *records = NULL;
  for (;;) {
    int ready;
    do ready = epoll_wait(w->epfd, events, MAX_EVENTS, 0);
    while (ready < 0 && errno == EINTR);
    if (ready < 0) {
      free(records);
      return throw_errno(env, errno, "epoll_wait");
    }
    if (ready == 0) break;
    if (count + (size_t)ready > capacity) {
      capacity = (count + (size_t)ready) * 2;
      double *grown = realloc(records, capacity * RECORD_FIELDS * sizeof(double));
      if (grown == NULL) {
        free(records);
        return throw_errno(env, ENOMEM, "realloc");
      }
      records = grown;
    }
    int reaped_this_round = 0;
    for (int i = 0; i < ready; i++) {
      pid_t pid = (pid_t)(uint32_t)(events[i].data.u64 & 0xffffffffu);
      int fd = (int)(events[i].data.u64 >> 32);
      double *out = records + count * RECORD_FIELDS;
      int kind = reap_pidfd(fd, pid, out);
      if (kind < 0) continue;  // not exited yet (a spurious wake-up): keep watching
      epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
      if (kind != KIND_PENDING) close(fd);  // a pending pidfd goes back to JS, to retry
      count++;
      reaped_this_round++;
    }
    if (ready < MAX_EVENTS || reaped_this_round == 0) break;
  }
  napi_value result = make_record_array(env, records, count);
  free(records);
  return result;
}

// Whether the watcher keeps the event loop alive (it should while processes are watched).
static napi_value watcher_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool on;
  if (!get_args(env, info, 2, argv)) return NULL;
  watcher_t *w = get_watcher(env, argv[0]);
  if (w == NULL) return NULL;
  CHECK(napi_get_value_bool(env, argv[1], &on));
  if (on) uv_ref((uv_handle_t *)&w->js.poll);
  else uv_unref((uv_handle_t *)&w->js.poll);
  return NULL;
}

static napi_value watcher_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  watcher_t *w = NULL;
  CHECK(napi_get_value_external(env, argv[0], (void **)&w));
  if (w != NULL && !w->closed) watcher_shutdown(w);
  return NULL;
}

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f;                                                          \
    CHECK(napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f)); \
    CHECK(napi_set_named_property(env, exports, name, f));                 \
  } while (0)

NAPI_MODULE_INIT() {
  EXPORT("setChildSubreaper", set_child_subreaper);
  EXPORT("isChildSubreaper", is_child_subreaper);
  EXPORT("pidfdOpen", pidfd_open);
  EXPORT("waitPid", wait_pid);
  EXPORT("mkfifo", make_fifo);
  EXPORT("spreadSubdirectories", spread_subdirectories);
  EXPORT("tryLock", try_lock);
  EXPORT("receiveFd", receive_fd);
  EXPORT("setWindowSize", set_window_size);
  EXPORT("closeFd", close_fd);
  EXPORT("watcherCreate", watcher_create);
  EXPORT("watcherAdd", watcher_add);
  EXPORT("watcherRemove", watcher_remove);
  EXPORT("watcherRetry", watcher_retry);
  EXPORT("watcherReap", watcher_reap);
  EXPORT("watcherRef", watcher_ref);
  EXPORT("watcherClose", watcher_close);
  EXPORT("mountOverlay", mount_overlay);
  EXPORT("unmountDetach", unmount_detach);
  EXPORT("unmountDetachAsync", unmount_detach_async);
  EXPORT("bindSelf", bind_self);
  EXPORT("makeShared", make_shared);
  EXPORT("spawn", native_spawn);
  EXPORT("spawnSignal", native_spawn_signal);
  return exports;
}
