# The WebSocket side (PRODUCT.md section 3): subprotocols, one session per
# connection on its worker thread, the text frame writer, the worker pool.
# Included by ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    ws/subprotocol.h
    ws/subprotocolregistry.cpp ws/subprotocolregistry.h
    ws/textframewriter.cpp ws/textframewriter.h
    ws/websocketsession.cpp ws/websocketsession.h
    ws/workerpool.cpp ws/workerpool.h
)
