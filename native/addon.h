// What the addon's C files share: the N-API helpers defined in salvo.c and the spawner's entry points.
#ifndef SALVO_ADDON_H
#define SALVO_ADDON_H
#include <node_api.h>
#include <stdint.h>
#include <uv.h>

napi_value make_errno_error(napi_env env, int err, const char *syscall_name);
napi_value throw_errno(napi_env env, int err, const char *syscall_name);
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int get_int(napi_env env, napi_value value, int32_t *out);

// native/spawn.c
napi_value native_spawn(napi_env env, napi_callback_info info);
napi_value native_spawn_signal(napi_env env, napi_callback_info info);

#endif
