// What the addon's C files share: the N-API helpers defined in salvo.c and the spawner's entry points.
#ifndef SALVO_ADDON_H
#define SALVO_ADDON_H
#include <node_api.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <uv.h>

// Syscall numbers and the waitid idtype older headers lack (x86-64 and arm64 agree on these).
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

napi_value make_errno_error(napi_env env, int err, const char *syscall_name);
napi_value throw_errno(napi_env env, int err, const char *syscall_name);
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int get_int(napi_env env, napi_value value, int32_t *out);

// A libuv poll handle that calls back into JS (the pidfd watcher, a spawned child's handle). It is
// the first member of its owner, which is freed once both libuv (the handle's close) and the GC
// (the JS external's finalizer) are done with it.
typedef struct js_poll {
  napi_env env;
  uv_poll_t poll;     // poll.data points to the owner (= this struct)
  int handle_closed;  // libuv has finished closing the poll handle
  int finalized;      // JS no longer references the owner
  napi_ref callback;
  napi_async_context async_context;
  napi_ref resource;
  void (*on_handle_closed)(struct js_poll *p);  // optional: the owner's own cleanup then
} js_poll_t;

// Stops polling, drops the JS references (and the async context, unless taken) and closes the handle.
void js_poll_release(js_poll_t *p);
// The JS external's finalizer half: frees the owner if libuv already closed the handle.
void js_poll_finalize(js_poll_t *p);
// Calls the JS callback in its async context; an exception it throws is fatal, as in any event callback.
void js_poll_call(napi_env env, napi_async_context context, napi_value resource, napi_value callback, size_t argc,
                  napi_value *argv);

// native/spawn.c
napi_value native_spawn(napi_env env, napi_callback_info info);
napi_value native_spawn_signal(napi_env env, napi_callback_info info);

#endif
