# The front (PRODUCT.md sections 1, 2 and 5): the listener, each accepted
# socket's request head, the handshake checks, the hand-over of upgrades to
# the WebSocket side and of plain requests to the HTTP side. Included by
# ../CMakeLists.txt.
target_sources(switchboard_core PRIVATE
    front/requesthead.cpp front/requesthead.h
    front/httpresponse.cpp front/httpresponse.h
    front/handshakepolicy.cpp front/handshakepolicy.h
    front/httpexchangesocket.cpp front/httpexchangesocket.h
    front/httphandoverserver.cpp front/httphandoverserver.h
    front/httpside.cpp front/httpside.h
    front/upgradedispatcher.cpp front/upgradedispatcher.h
    front/frontconnection.cpp front/frontconnection.h
    front/frontlistener.cpp front/frontlistener.h
    front/descriptorlimit.cpp front/descriptorlimit.h
)
