// libFuzzer target: HttpReplyParser fed what an upstream might send, cut
// into pieces at the positions the input chooses, then the connection's end.
// Input: one byte of piece size (1..256), then the bytes. Checks the parser's
// own promises: a Done reply's body never exceeds the limit, an Invalid
// parser stays Invalid, and nothing it keeps grows without bound.

#include "upstream/httpreplyparser.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const qsizetype step = qsizetype(data[0]) + 1;
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    constexpr qsizetype Limit = 4096;
    HttpReplyParser parser(Limit);
    QByteArray buffer;
    for (qsizetype i = 0; i < input.size(); i += step) {
        buffer += input.mid(i, step);
        for (;;) {
            const HttpReplyParser::State state = parser.feed(buffer);
            if (state == HttpReplyParser::State::NeedMore)
                break;
            if (state == HttpReplyParser::State::Invalid) {
                QByteArray more = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                if (parser.feed(more) != HttpReplyParser::State::Invalid)
                    std::abort();
                return 0;
            }
            if (parser.body().size() > Limit || parser.status() < 200 || parser.status() > 599)
                std::abort();
            parser.reset(); // the next reply on the same connection
        }
        if (buffer.size() > HttpReplyParser::MaxHeadBytes + 2 * step + 1024 * 1024)
            std::abort(); // kept bytes must stay bounded
    }
    const HttpReplyParser::State end = parser.finish();
    if (end == HttpReplyParser::State::Done && parser.body().size() > Limit)
        std::abort();
    return 0;
}
