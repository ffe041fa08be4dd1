// Preloaded into `tessera serve` by scripts/lib/mallstat-tessera: every 5 s, a line with glibc's
// own account of the heap (mallinfo2): what the arenas hold (`arena`), the blocks mmapped on their
// own (`mmap`), the bytes in use (`inuse`) and the free bytes kept inside the arenas (`free`).
// A heap whose `inuse` is level while `arena` grows is the allocator keeping freed memory
// (fragmentation), not a leak (docs/operations.md, "The soak").
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char path[4096];

static void *sample(void *unused) {
    (void)unused;
    FILE *file = fopen(path, "w");
    if (file == NULL) return NULL;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct mallinfo2 info = mallinfo2();
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        fprintf(file, "%ld s arena %zu mmap %zu inuse %zu free %zu\n", (long)(now.tv_sec - start.tv_sec), info.arena,
                info.hblkhd, info.uordblks, info.fordblks);
        fflush(file);
        sleep(5);
    }
    return NULL;
}

__attribute__((constructor)) static void start_sampling(void) {
    const char *directory = getenv("TESSERA_MALLSTAT_DIR");
    if (directory == NULL) return;
    snprintf(path, sizeof path, "%s/mallstat.%d", directory, (int)getpid());
    unsetenv("TESSERA_MALLSTAT_DIR");  // not inherited by what the server starts
    pthread_t thread;
    if (pthread_create(&thread, NULL, sample, NULL) == 0) pthread_detach(thread);
}
