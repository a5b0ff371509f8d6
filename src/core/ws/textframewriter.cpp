#include "ws/textframewriter.h"

#include "directsend.h"

#include <QTcpSocket>
#include <QtEndian>

namespace {
constexpr quint8 OpcodeContinuation = 0x0;
constexpr quint8 OpcodeText = 0x1;
} // namespace

TextFrameWriter::TextFrameWriter(QTcpSocket *socket)
    : m_socket(socket)
    , m_direct(DirectSend::supported(socket))
{
}

int TextFrameWriter::header(quint8 opcode, bool final, quint64 payloadSize, char (&out)[10])
{
    out[0] = char((final ? 0x80 : 0x00) | (opcode & 0x0F));
    if (payloadSize <= 125) {
        out[1] = char(payloadSize);
        return 2;
    }
    if (payloadSize <= 0xFFFF) {
        out[1] = char(126);
        qToBigEndian<quint16>(quint16(payloadSize), out + 2);
        return 4;
    }
    out[1] = char(127);
    qToBigEndian<quint64>(payloadSize, out + 2);
    return 10;
}

void TextFrameWriter::write(const QByteArray &utf8)
{
    char head[10];
    if (utf8.size() > MaxFramePayload) {
        // Large messages are rare and their per-message cost is small next
        // to their bytes: Qt's buffer takes the frames.
        for (qsizetype at = 0; at < utf8.size(); at += MaxFramePayload) {
            const qsizetype size = qMin(MaxFramePayload, utf8.size() - at);
            const bool final = at + size == utf8.size();
            m_socket->write(head, header(at == 0 ? OpcodeText : OpcodeContinuation, final, quint64(size), head));
            m_socket->write(utf8.constData() + at, size);
        }
        return;
    }
    const int headSize = header(OpcodeText, true, quint64(utf8.size()), head);
    // Straight to the kernel only when that cannot overtake queued bytes,
    // and only for the last reply of a pass: while requests of this
    // connection are still buffered, their replies gather in Qt's buffer.
    const qint64 sent = m_direct && m_socket->bytesToWrite() == 0 && m_socket->bytesAvailable() == 0
        ? sendNow(head, headSize, utf8)
        : 0;
    if (sent == headSize + utf8.size())
        return;
    if (sent < headSize) {
        m_socket->write(head + sent, headSize - sent);
        m_socket->write(utf8);
    } else {
        m_socket->write(utf8.constData() + (sent - headSize), utf8.size() - (sent - headSize));
    }
}

qint64 TextFrameWriter::sendNow(const char *head, int headSize, const QByteArray &payload)
{
    return DirectSend::send(m_socket, head, headSize, payload.constData(), payload.size());
}
