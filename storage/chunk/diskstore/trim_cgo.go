//go:build cgo && linux

package diskstore

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

struct cairn_mallinfo2 {
	size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};

// freeBytes returns the bytes the C library's malloc holds free, or -1 if
// it cannot tell (glibc has mallinfo2 since 2.33; musl has none).
static long long freeBytes(void) {
	static struct cairn_mallinfo2 (*f)(void);
	static int looked;
	if (!looked) {
		f = (struct cairn_mallinfo2 (*)(void))dlsym(RTLD_DEFAULT, "mallinfo2");
		looked = 1;
	}
	if (!f) {
		return -1;
	}
	struct cairn_mallinfo2 m = f();
	return (long long)(m.fordblks + m.fsmblks);
}

// trim calls the C library's malloc_trim, if it has one: it gives the
// pages of freed allocations back to the system.
static int trim(void) {
	static int (*f)(size_t);
	static int looked;
	if (!looked) {
		f = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
		looked = 1;
	}
	return f ? f(0) : -1;
}
*/
import "C"

// ReleaseFreedMemory gives the pages of freed C allocations back to the
// system if the C library's malloc holds more than threshold bytes free (or
// cannot say how many it holds), and reports whether it did.
//
// Pebble keeps its block cache and memtables in C memory (calloc), and
// glibc's malloc keeps what they free (evicted blocks, flushed memtables)
// in its arenas for reuse: without a trim the process's resident memory
// stays at the peak of the cache's churn, hundreds of megabytes above what
// the cache holds (docs/server.md, "Memory"). A trim takes milliseconds,
// holding each arena's lock in turn.
func ReleaseFreedMemory(threshold int64) bool {
	if free := int64(C.freeBytes()); free >= 0 && free <= threshold {
		return false
	}
	return C.trim() >= 0
}
