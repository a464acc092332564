// oneDNN's C API (Debian's libdnnl-dev ships no pkg-config file, so the module map links dnnl directly).
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <pthread.h>

// Debian's oneDNN runs on OpenMP. Its thread count is a per-thread setting (an OpenMP ICV), set on the
// calling thread before each primitive runs. The symbol comes with oneDNN's own libgomp and is looked
// up once at run time, so that the engine does not link OpenMP itself. Returns 0 when no OpenMP
// runtime is loaded.
static void (*medglip_omp_set)(int) = 0;
static pthread_once_t medglip_omp_once = PTHREAD_ONCE_INIT;
static inline void medglip_omp_lookup(void) { medglip_omp_set = (void (*)(int))dlsym((void *)0, "omp_set_num_threads"); }
static inline int medglip_omp_set_num_threads(int n) {
    pthread_once(&medglip_omp_once, medglip_omp_lookup);
    if (!medglip_omp_set) return 0;
    medglip_omp_set(n);
    return 1;
}
