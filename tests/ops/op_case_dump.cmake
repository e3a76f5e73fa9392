# The op cases dumped for the PyTorch comparison (tests/ops/torch_reference_test.py).
add_executable(op_case_dump ${CMAKE_CURRENT_SOURCE_DIR}/ops/dump/op_case_dump.cpp)
target_link_libraries(op_case_dump PRIVATE kiln_op_cases)
add_test(NAME ops_match_torch
         COMMAND python3 -m pytest -q ${CMAKE_CURRENT_SOURCE_DIR}/ops/torch_reference_test.py
                 --dump-exe $<TARGET_FILE:op_case_dump>)
