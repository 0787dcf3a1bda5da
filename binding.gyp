{
  "targets": [
    {
      "target_name": "salvo",
      "sources": ["native/salvo.c", "native/spawn.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,now"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    },
    {
      "target_name": "salvo-bench-driver",
      "type": "executable",
      "sources": ["native/bench-driver.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "salvo-burst-reaper",
      "type": "executable",
      "sources": ["native/burst-reaper.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "salvo-exec",
      "type": "executable",
      "sources": ["native/salvo-exec.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "salvo-init",
      "type": "executable",
      "sources": ["native/salvo-init.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static"]
    }
  ]
}
