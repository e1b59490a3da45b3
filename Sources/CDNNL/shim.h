// oneDNN 2.6's C API (Debian 12's libdnnl-dev), built on GNU OpenMP.
#include <oneapi/dnnl/dnnl.h>

// libgomp sets the OpenMP team size of the calling thread; omp.h is not on the
// default include path, so the one function the engine needs is declared here.
void omp_set_num_threads(int num_threads);

// DNNL_MEMORY_ALLOCATE is a pointer-cast macro Swift does not import. The
// convolution binds its memories to the runtime's arena instead; this is for
// memories oneDNN should own (the blocked activations kept between layers, next).
static inline void *foldwise_dnnl_memory_allocate(void) { return DNNL_MEMORY_ALLOCATE; }
