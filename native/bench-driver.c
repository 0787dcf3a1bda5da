// salvo bench's primary baseline: the cheapest honest bare driver. It posix_spawns
// `RUNTIME --root ROOT run -d --bundle BUNDLE ID` for each id, K at a time, and waits for each by
// its pid (what a shell loop does, minus the shell); no exit of a container is recorded. It is a
// child subreaper, so the container inits the runtimes leave behind come back to it and are
// reaped; after the timed part it deletes the containers (untimed). On a hybrid cgroup host the
// whole driver first enters crun's mount namespace (it is single-threaded), so no wrapper is exec'd.
//   usage: salvo-bench-driver K MNTNS|- RUNTIME ROOT BUNDLE ID...
// Prints one JSON object (the fields of BaselineOutput in src/bench/baseline-driver.ts).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

typedef struct {
  pid_t pid;
  double began;
} slot_t;

// Runs one verb for every id, k at a time; fills the successes' latencies (ms, may be NULL), counts them
// in *succeeded, and returns the failures.
static int run_all(int k, const char *runtime, const char *root, const char *bundle, char **ids, int count,
                   int delete_verb, double *latencies, int *succeeded, char *first_error, size_t error_size) {
  slot_t *slots = calloc((size_t)k, sizeof *slots);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  int next = 0, running = 0, failures = 0;
  while (next < count || running > 0) {
    while (running < k && next < count) {
      char *run_argv[] = {(char *)runtime, "--root", (char *)root, "run", "-d", "--bundle", (char *)bundle, ids[next], NULL};
      char *delete_argv[] = {(char *)runtime, "--root", (char *)root, "delete", "--force", ids[next], NULL};
      int slot = 0;
      while (slots[slot].pid != 0) slot++;
      slots[slot].began = now_ms();
      int rc = posix_spawn(&slots[slot].pid, runtime, &actions, NULL, delete_verb ? delete_argv : run_argv, environ);
      if (rc != 0) {
        slots[slot].pid = 0;
        failures++;
        if (first_error[0] == '\0') snprintf(first_error, error_size, "posix_spawn %s: %s", runtime, strerror(rc));
      } else {
        running++;
      }
      next++;
    }
    int status;
    pid_t pid = waitpid(-1, &status, 0);  // our runtimes, or container inits re-parented to us
    if (pid < 0) break;
    for (int i = 0; i < k; i++) {
      if (slots[i].pid != pid) continue;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failures++;
        if (first_error[0] == '\0') snprintf(first_error, error_size, "%s exited with status %d", runtime, status);
      } else {
        if (latencies != NULL) latencies[*succeeded] = now_ms() - slots[i].began;
        (*succeeded)++;
      }
      slots[i].pid = 0;
      running--;
      break;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  free(slots);
  return failures;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: salvo-bench-driver K MNTNS|- RUNTIME ROOT BUNDLE ID...\n");
    return 2;
  }
  int k = atoi(argv[1]);
  const char *runtime = argv[3], *root = argv[4], *bundle = argv[5];
  char **ids = argv + 6;
  int count = argc - 6;
  if (k < 1) k = 1;
  if (strcmp(argv[2], "-") != 0) {
    int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNS) != 0) {
      fprintf(stderr, "salvo-bench-driver: setns %s: %s\n", argv[2], strerror(errno));
      return 2;
    }
    close(ns);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  double *latencies = calloc((size_t)count, sizeof *latencies);
  char first_error[512] = "";
  double cpu0 = cpu_ms(RUSAGE_SELF), children0 = cpu_ms(RUSAGE_CHILDREN), began = now_ms();
  int succeeded = 0, deleted = 0;
  int failures = run_all(k, runtime, root, bundle, ids, count, 0, latencies, &succeeded, first_error, sizeof first_error);
  double wall = now_ms() - began;
  // The inits are /bin/true: give them a moment, then reap every one re-parented to us.
  usleep(50 * 1000);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  double driver_cpu = cpu_ms(RUSAGE_SELF) - cpu0, children_cpu = cpu_ms(RUSAGE_CHILDREN) - children0;
  double delete_began = now_ms();
  char delete_error[512] = "";
  run_all(k, runtime, root, bundle, ids, count, 1, NULL, &deleted, delete_error, sizeof delete_error);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  printf("{\"wallMs\":%.3f,\"latencies\":[", wall);
  for (int i = 0; i < succeeded; i++) printf("%s%.3f", i == 0 ? "" : ",", latencies[i]);
  printf("],\"failures\":%d,\"firstError\":", failures);
  if (first_error[0] == '\0') printf("null");
  else {
    putchar('"');
    for (const char *c = first_error; *c != '\0'; c++) {
      if (*c == '"' || *c == '\\') putchar('\\');
      if ((unsigned char)*c >= 0x20) putchar(*c);
    }
    putchar('"');
  }
  printf(",\"driverCpuMs\":%.3f,\"childrenCpuMs\":%.3f,\"deleteWallMs\":%.3f}\n", driver_cpu, children_cpu, now_ms() - delete_began);
  free(latencies);
  return 0;
}
