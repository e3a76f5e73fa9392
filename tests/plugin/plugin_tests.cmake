# The C++ tests of libkiln_torch.so (a program linked with libtorch, no Python).
if(KILN_BUILD_PLUGIN)
  kiln_test(plugin kiln_torch)
endif()
