# Application methods served elsewhere (PRODUCT.md section 7): HTTP
# upstreams and their connections. Included by ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    upstream/upstreamspec.cpp upstream/upstreamspec.h
    upstream/httpreplyparser.cpp upstream/httpreplyparser.h
    upstream/httpupstream.cpp upstream/httpupstream.h
    upstream/methodhandlerplugin.h
)
