# The wire layer (PRODUCT.md section 3): the bundled subprotocols `jsonrpc`
# and `dm-rpc`. Included by ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/wirejson.cpp ${CMAKE_CURRENT_LIST_DIR}/wirejson.h
    ${CMAKE_CURRENT_LIST_DIR}/wiresession.cpp ${CMAKE_CURRENT_LIST_DIR}/wiresession.h
    ${CMAKE_CURRENT_LIST_DIR}/jsonrpcsubprotocol.cpp ${CMAKE_CURRENT_LIST_DIR}/jsonrpcsubprotocol.h
    ${CMAKE_CURRENT_LIST_DIR}/dmrpcsubprotocol.cpp ${CMAKE_CURRENT_LIST_DIR}/dmrpcsubprotocol.h
    ${CMAKE_CURRENT_LIST_DIR}/bundledsubprotocols.cpp ${CMAKE_CURRENT_LIST_DIR}/bundledsubprotocols.h
)
