# Finds the torch that the Python interpreter imports and describes it for the plugin:
#   KILN_TORCH_FOUND            ON when Python (with its development files) imports torch
#   KILN_TORCH_VERSION          torch.__version__
#   KILN_TORCH_LIB_DIR          <torch>/lib
#   KILN_TORCH_ABI              torch._C._GLIBCXX_USE_CXX11_ABI (0 or 1)
#   kiln::torch_cpu             imported target: torch's headers, libtorch_cpu and libc10
#   KILN_TORCH_PYTHON_LIBRARY   libtorch_python (only kiln._C may link it)
#   KILN_TORCH_OPENMP_LIBRARY   the OpenMP runtime of torch's intra-op pool (the libgomp torch
#                               ships), when torch parallelizes with OpenMP; else empty
#
# NOTE: not find_package(Torch). For a CUDA wheel that config enables the CUDA language and
# probes the GPU (slow, and it fails where the CUDA toolkit is newer than CMake knows); the
# plugin's operators are CPU kernels and need only the CPU libraries.
set(KILN_TORCH_FOUND OFF)
find_package(Python COMPONENTS Interpreter Development.Module QUIET)
if(Python_FOUND)
  execute_process(
    COMMAND ${Python_EXECUTABLE} -c
      "import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__)"
    RESULT_VARIABLE kiln_torch_rc OUTPUT_VARIABLE kiln_torch_out ERROR_QUIET
    OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
if(Python_FOUND AND kiln_torch_rc EQUAL 0)
  # The last three lines: importing torch may print warnings first.
  string(REPLACE "\n" ";" kiln_torch_out "${kiln_torch_out}")
  list(GET kiln_torch_out -3 kiln_torch_dir)
  list(GET kiln_torch_out -2 KILN_TORCH_ABI)
  list(GET kiln_torch_out -1 KILN_TORCH_VERSION)
  set(KILN_TORCH_LIB_DIR ${kiln_torch_dir}/lib)
  find_library(KILN_TORCH_CPU_LIBRARY torch_cpu PATHS ${KILN_TORCH_LIB_DIR} NO_DEFAULT_PATH)
  find_library(KILN_C10_LIBRARY c10 PATHS ${KILN_TORCH_LIB_DIR} NO_DEFAULT_PATH)
  find_library(KILN_TORCH_PYTHON_LIBRARY torch_python PATHS ${KILN_TORCH_LIB_DIR} NO_DEFAULT_PATH)
  if(KILN_TORCH_CPU_LIBRARY AND KILN_C10_LIBRARY AND KILN_TORCH_PYTHON_LIBRARY)
    set(KILN_TORCH_FOUND ON)
    add_library(kiln::torch_cpu INTERFACE IMPORTED)
    target_include_directories(kiln::torch_cpu SYSTEM INTERFACE
      ${kiln_torch_dir}/include ${kiln_torch_dir}/include/torch/csrc/api/include)
    target_link_libraries(kiln::torch_cpu INTERFACE ${KILN_TORCH_CPU_LIBRARY} ${KILN_C10_LIBRARY})
    message(STATUS "Kiln: torch ${KILN_TORCH_VERSION} at ${kiln_torch_dir}")
    # NOTE: at::parallel_for is a header template; with AT_PARALLEL_OPENMP its `omp parallel`
    # is compiled into the caller, which therefore needs -fopenmp and torch's own runtime (a
    # second OpenMP runtime would oversubscribe the cores).
    set(KILN_TORCH_OPENMP_LIBRARY "")
    file(STRINGS ${kiln_torch_dir}/include/ATen/Config.h kiln_openmp REGEX "define AT_PARALLEL_OPENMP 1")
    if(kiln_openmp)
      file(GLOB kiln_gomp ${KILN_TORCH_LIB_DIR}/libgomp*.so*)
      if(kiln_gomp)
        list(GET kiln_gomp 0 KILN_TORCH_OPENMP_LIBRARY)
      else()
        find_package(OpenMP QUIET COMPONENTS CXX)  # torch built against the system's libgomp
        if(OpenMP_CXX_FOUND)
          set(KILN_TORCH_OPENMP_LIBRARY ${OpenMP_gomp_LIBRARY})
        endif()
      endif()
      if(NOT KILN_TORCH_OPENMP_LIBRARY)
        message(WARNING "Kiln: torch parallelizes with OpenMP but its runtime was not found; "
                        "Kiln's parallel loops will run on one thread")
      endif()
    endif()
  endif()
endif()
