# The method layer (PRODUCT.md section 4): catalog, validator chain, plugins,
# method switches and counters, built-in handlers. Included by
# src/core/CMakeLists.txt.

# valijson: header-only JSON Schema validation (Debian: libvalijson-dev).
find_path(VALIJSON_INCLUDE_DIR valijson/validator.hpp
    DOC "Directory holding valijson/validator.hpp (libvalijson-dev)")
if(NOT VALIJSON_INCLUDE_DIR)
    message(FATAL_ERROR "valijson not found: install libvalijson-dev, or set VALIJSON_INCLUDE_DIR "
                        "to the directory that holds valijson/validator.hpp")
endif()

target_sources(switchboard_core PRIVATE
    rpc/methodslogging.cpp rpc/methodslogging.h
    rpc/methodvalidator.h
    rpc/methodhandler.h
    rpc/jsonschema.cpp rpc/jsonschema.h
    rpc/schemacycles.h
    rpc/methodcatalog.cpp rpc/methodcatalog.h
    rpc/methodstatefile.cpp rpc/methodstatefile.h
    rpc/methodregistry.cpp rpc/methodregistry.h
    rpc/catalogvalidator.cpp rpc/catalogvalidator.h
    rpc/validatorchain.cpp rpc/validatorchain.h
    rpc/validatorpluginloader.cpp rpc/validatorpluginloader.h
    rpc/topichub.cpp rpc/topichub.h
    rpc/openrpcdocument.cpp rpc/openrpcdocument.h
    rpc/builtinmethods.cpp rpc/builtinmethods.h
    rpc/catalogrpcengine.cpp rpc/catalogrpcengine.h
)
# Only jsonschema.cpp includes valijson; nothing of it reaches our headers.
target_include_directories(switchboard_core SYSTEM PRIVATE ${VALIJSON_INCLUDE_DIR})
target_compile_definitions(switchboard_core PRIVATE VALIJSON_USE_EXCEPTIONS=1)

# The default catalog, compiled in as :/switchboard/catalog.json.
qt_add_resources(switchboard_core switchboard_catalog
    PREFIX "/switchboard"
    BASE "${PROJECT_SOURCE_DIR}/resources"
    FILES "${PROJECT_SOURCE_DIR}/resources/catalog.json"
)

# What a plugin builds against: the interface headers and QtCore. Plugins do
# not link switchboard_core (methodvalidator.h and methodhandlerplugin.h are
# header-only). switchboard_plugin_api is the name for both kinds;
# switchboard_validator_api is the same target under its first name.
add_library(switchboard_validator_api INTERFACE)
target_include_directories(switchboard_validator_api INTERFACE
    ${CMAKE_CURRENT_SOURCE_DIR}/rpc ${CMAKE_CURRENT_SOURCE_DIR}/upstream)
target_link_libraries(switchboard_validator_api INTERFACE Qt6::Core)
add_library(switchboard_plugin_api ALIAS switchboard_validator_api)
