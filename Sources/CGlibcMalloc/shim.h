// glibc's malloc.h (mallopt, mallinfo2), which Swift's Glibc module does not import: the server
// fixes the allocator's mmap threshold at start-up (Sources/tessera/AllocatorTuning.swift).
#ifndef TESSERA_CGLIBCMALLOC_SHIM_H
#define TESSERA_CGLIBCMALLOC_SHIM_H

#include <malloc.h>

#endif
