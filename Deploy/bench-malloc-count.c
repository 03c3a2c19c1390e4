// Counts the heap allocations of a server under benchmark; Deploy/bench.sh compiles it and loads it
// with LD_PRELOAD into the processes it measures (never into anything shipped).
//
// With MALLOC_COUNT_DIR set, each process maps the file MALLOC_COUNT_DIR/<pid>: SLOTS slots of
// counters, one slot per cache line, each written by one thread only (the last is shared by threads
// beyond SLOTS-1), so counting costs thread-local increments and no contended atomic. A slot holds
// 64-bit counts: allocations (malloc, calloc, realloc and the aligned ones), frees, bytes allocated
// and bytes freed (usable sizes, so a realloc frees its old block and allocates its new one).
// loadgen (ServerCounters, at its window edges) and `loadgen server-counters` (the idle windows) sum
// the slots before and after a measured window: allocations per operation, and the live heap
// (allocated minus freed) that idle connections hold.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

enum { SLOTS = 256, SLOT_WORDS = 8 };  // 8 x 8 bytes: one cache line per slot
enum { ALLOCATIONS, FREES, BYTES_ALLOCATED, BYTES_FREED };  // the words of a slot that are used

static uint64_t *slots;       // SLOTS x SLOT_WORDS, shared with the file
static unsigned nextSlot;     // slots handed out so far
static __thread uint64_t *mySlot __attribute__((tls_model("initial-exec")));

__attribute__((constructor)) static void mapCounters(void) {
    const char *dir = getenv("MALLOC_COUNT_DIR");
    if (!dir) return;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%d", dir, (int)getpid()) >= (int)sizeof path) return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    size_t size = SLOTS * SLOT_WORDS * sizeof(uint64_t);
    if (ftruncate(fd, (off_t)size) == 0) {
        void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map != MAP_FAILED) __atomic_store_n(&slots, (uint64_t *)map, __ATOMIC_RELEASE);
    }
    close(fd);
}

/* This thread's slot; NULL until the counters are mapped. */
static inline uint64_t *threadSlot(void) {
    uint64_t *slot = mySlot;
    if (__builtin_expect(slot == NULL, 0)) {
        uint64_t *all = __atomic_load_n(&slots, __ATOMIC_ACQUIRE);
        if (!all) return NULL;
        unsigned index = __atomic_fetch_add(&nextSlot, 1, __ATOMIC_RELAXED);
        slot = &all[(index < SLOTS - 1 ? index : SLOTS - 1) * SLOT_WORDS];
        mySlot = slot;
    }
    return slot;
}

static inline void add(uint64_t *slot, int word, uint64_t amount) {
    if (slot == &slots[(SLOTS - 1) * SLOT_WORDS]) {
        __atomic_fetch_add(&slot[word], amount, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&slot[word], slot[word] + amount, __ATOMIC_RELAXED);  // this thread's own slot
    }
}

static inline void *allocated(void *p) {
    uint64_t *slot = threadSlot();
    if (slot && p) {
        add(slot, ALLOCATIONS, 1);
        add(slot, BYTES_ALLOCATED, malloc_usable_size(p));
    }
    return p;
}

static inline void freeing(void *p) {
    uint64_t *slot = threadSlot();
    if (slot && p) {
        add(slot, FREES, 1);
        add(slot, BYTES_FREED, malloc_usable_size(p));
    }
}

void *malloc(size_t size) { return allocated(__libc_malloc(size)); }
void *calloc(size_t n, size_t size) { return allocated(__libc_calloc(n, size)); }
void *memalign(size_t alignment, size_t size) { return allocated(__libc_memalign(alignment, size)); }
void *aligned_alloc(size_t alignment, size_t size) { return allocated(__libc_memalign(alignment, size)); }
void free(void *p) { freeing(p); __libc_free(p); }

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    void *moved = __libc_realloc(p, size);
    if (!moved) return NULL;  // the old block stays as it was
    uint64_t *slot = threadSlot();
    if (slot) {
        add(slot, FREES, 1);
        add(slot, BYTES_FREED, old);
    }
    return allocated(moved);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = allocated(__libc_memalign(alignment, size));
    if (!p && size) return ENOMEM;
    *out = p;
    return 0;
}
