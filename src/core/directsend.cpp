#include "directsend.h"

#include <QSslSocket>
#include <QTcpSocket>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>
#endif

// A peer that is gone must give EPIPE, not SIGPIPE: MSG_NOSIGNAL (Linux, the BSDs).
#if defined(Q_OS_UNIX) && defined(MSG_NOSIGNAL)
#define SWITCHBOARD_DIRECT_SEND 1
#endif

bool DirectSend::supported(const QTcpSocket *socket)
{
#ifdef SWITCHBOARD_DIRECT_SEND
    return !qobject_cast<const QSslSocket *>(socket);
#else
    Q_UNUSED(socket);
    return false;
#endif
}

qint64 DirectSend::send(QTcpSocket *socket, const char *first, qsizetype firstSize, const char *second,
                        qsizetype secondSize)
{
#ifdef SWITCHBOARD_DIRECT_SEND
    const int descriptor = int(socket->socketDescriptor());
    if (descriptor < 0)
        return 0;
    iovec parts[2] = {{const_cast<char *>(first), size_t(firstSize)},
                      {const_cast<char *>(second), size_t(secondSize)}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = secondSize > 0 ? 2 : 1;
    ssize_t n;
    do {
        n = ::sendmsg(descriptor, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? qint64(n) : 0;
#else
    Q_UNUSED(socket);
    Q_UNUSED(first);
    Q_UNUSED(firstSize);
    Q_UNUSED(second);
    Q_UNUSED(secondSize);
    return 0;
#endif
}
