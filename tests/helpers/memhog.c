/* memhog: a process of known memory behaviour for the memlog tests.
 *
 *   memhog alloc MIB HOLD_MS AFTER_MS  print "baseline", wait 200 ms, allocate
 *                                      and touch MIB, print "allocated", hold,
 *                                      free (returned to the OS), print "freed",
 *                                      wait AFTER_MS
 *   memhog tree N MIB HOLD_MS          N children, each with one grandchild,
 *                                      plus one double-forked orphan: all 2N+1
 *                                      touch MIB and hold; waits for N children
 *   memhog lines N                     N lines, alternately stdout and stderr,
 *                                      then raw bytes and a last line without
 *                                      a newline on stdout
 *   memhog sleep MS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static char* touch(long mib) {
  size_t n = (size_t)mib << 20;
  char* p = malloc(n);
  if (!p) exit(3);
  memset(p, 1, n);
  return p;
}

static void hold_and_exit(long mib, long hold_ms) {
  char* p = touch(mib);
  sleep_ms(hold_ms);
  free(p);
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc >= 5 && strcmp(argv[1], "alloc") == 0) {
    printf("baseline\n");
    fflush(stdout);
    sleep_ms(200);
    char* p = touch(atol(argv[2]));
    printf("allocated\n");
    fflush(stdout);
    sleep_ms(atol(argv[3]));
    free(p);
    printf("freed\n");
    fflush(stdout);
    sleep_ms(atol(argv[4]));
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "tree") == 0) {
    long n = atol(argv[2]), mib = atol(argv[3]), hold = atol(argv[4]);
    for (long i = 0; i < n; ++i) {
      if (fork() == 0) {
        if (fork() == 0) hold_and_exit(mib, hold);
        char* p = touch(mib);
        sleep_ms(hold);
        free(p);
        wait(NULL);
        _exit(0);
      }
    }
    if (fork() == 0) {  /* double fork: the orphan is re-parented */
      if (fork() == 0) hold_and_exit(mib, hold);
      _exit(0);
    }
    while (wait(NULL) > 0) {
    }
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "lines") == 0) {
    long n = atol(argv[2]);
    for (long i = 0; i < n; ++i) {
      FILE* f = i % 2 ? stderr : stdout;
      fprintf(f, "line %ld, \"quoted\"\n", i);
      fflush(f);
      sleep_ms(5);
    }
    fwrite("nul\0byte\rprogress\r\nlast-without-newline", 1, 39, stdout);
    fflush(stdout);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "sleep") == 0) {
    sleep_ms(atol(argv[2]));
    return 0;
  }
  fprintf(stderr, "usage: see memhog.c\n");
  return 2;
}
