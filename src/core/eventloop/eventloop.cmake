# The event dispatcher of the server's own threads (docs/ARCHITECTURE.md):
# epoll on Linux, Qt's stock one elsewhere or when configured.
# Included by ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    eventloop/eventloop.cpp eventloop/eventloop.h
    eventloop/epolleventdispatcher.cpp eventloop/epolleventdispatcher.h
)
