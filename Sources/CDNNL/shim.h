// oneDNN's C API (Debian's libdnnl-dev ships no pkg-config file, so the module map links dnnl directly).
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// Debian's oneDNN runs on OpenMP. Its thread count is a per-thread setting (an OpenMP ICV), set on the
// calling thread before each primitive runs. The symbol comes with oneDNN's own libgomp, looked up at
// run time so that the engine does not link OpenMP itself. Returns 0 when no OpenMP runtime is loaded.
static inline int medglip_omp_set_num_threads(int n) {
    static void (*set)(int) = 0;
    if (!set) set = (void (*)(int))dlsym((void *)0, "omp_set_num_threads");
    if (!set) return 0;
    set(n);
    return 1;
}
