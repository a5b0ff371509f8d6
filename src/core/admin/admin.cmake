# What the server knows and shows (PRODUCT.md sections 5 and 6): the live
# connections, the traffic log, the admin API and metrics. Included by
# ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    admin/connectionregistry.cpp admin/connectionregistry.h
    admin/trafficlog.cpp admin/trafficlog.h
    admin/adminapi.cpp admin/adminapi.h
)
