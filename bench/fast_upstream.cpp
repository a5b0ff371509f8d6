// fast_upstream: the upstream of the upstream-call benchmarks (bench/run.sh,
// docs/PERFORMANCE.md). A small HTTP/1.1 server without Qt: epoll,
// non-blocking sockets, one thread per --threads (each with its own
// listening socket on the same port, SO_REUSEPORT), so that what it costs
// per call is small next to what Switchboard spends forwarding one.
//
//   fast_upstream [--port 0] [--host 127.0.0.1] [--threads 1] [--delay-ms 0]
//
// Prints `listening http://127.0.0.1:PORT` once it accepts connections.
//
// Every POST (any path) is answered 200 with `{"result": P}`, where P is the
// raw text of the request body's top-level "params" member (null when the
// body has none): the body is scanned, not parsed into values, by a small
// scanner that follows JSON's strings, escapes and nesting exactly, so an
// upstream call of PRODUCT.md section 7 gets a valid reply whose result is the
// call's params, byte for byte. A body that is not a JSON object is answered
// 400; any other method 405 (both with a JSON body, Content-Length framed).
//
// HTTP: keep-alive (HTTP/1.1 by default, HTTP/1.0 only with
// `Connection: keep-alive`), `Connection: close` honoured, request bodies
// framed by Content-Length only (chunked bodies are refused with 501 and the
// connection closed), `Expect: 100-continue` answered. Pipelining-safe:
// every complete request in the input is answered, in order; a request split
// across reads waits for the rest.
//
// --delay-ms N delays every reply by N ms without blocking: replies wait in
// a queue (all have the same delay, so it stays in due order, and replies on
// one connection stay in request order) behind a timerfd, and the loop goes
// on serving other connections; 1,000 concurrent slow calls are 1,000 queue
// entries, nothing more.
//
// Runs until SIGINT/SIGTERM. Only loopback addresses are accepted.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "benchtext.h"

namespace {

using bench::hasToken;
using bench::iequals;
using bench::nowNs;
using bench::trim;

std::atomic<bool> g_stop{false};


// ---------------------------------------------------------------- JSON scanning

size_t skipWs(std::string_view s, size_t i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        ++i;
    return i;
}

constexpr size_t npos = std::string_view::npos;

// End of the string starting at s[i] == '"' (one past the closing quote), or npos.
size_t skipString(std::string_view s, size_t i)
{
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i + 1;
        else if (static_cast<unsigned char>(s[i]) < 0x20)
            return npos; // control characters must be escaped
    }
    return npos;
}

// End of the JSON value starting at s[i] (no leading whitespace), or npos.
// Containers: strings inside are skipped as strings, brackets must match.
// Scalars: a run of the characters numbers and literals are made of, checked
// for being one of true/false/null or starting like a number.
size_t skipValue(std::string_view s, size_t i)
{
    if (i >= s.size())
        return npos;
    const char first = s[i];
    if (first == '"')
        return skipString(s, i);
    if (first == '{' || first == '[') {
        std::string stack;
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '"') {
                i = skipString(s, i);
                if (i == npos)
                    return npos;
                --i;
            } else if (c == '{' || c == '[') {
                stack += c == '{' ? '}' : ']';
            } else if (c == '}' || c == ']') {
                if (stack.empty() || stack.back() != c)
                    return npos;
                stack.pop_back();
                if (stack.empty())
                    return i + 1;
            }
        }
        return npos;
    }
    const size_t begin = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '+' || s[i] == '.'))
        ++i;
    const std::string_view word = s.substr(begin, i - begin);
    if (word.empty())
        return npos;
    if (word == "true" || word == "false" || word == "null")
        return i;
    if (first == '-' || (first >= '0' && first <= '9'))
        return i;
    return npos;
}

// The raw text of the top-level "params" member of a JSON object body:
// "null" when there is none; false when the body is not a JSON object.
bool findParams(std::string_view body, std::string_view &params)
{
    params = "null";
    size_t i = skipWs(body, 0);
    if (i >= body.size() || body[i] != '{')
        return false;
    i = skipWs(body, i + 1);
    if (i < body.size() && body[i] == '}')
        return skipWs(body, i + 1) == body.size();
    while (i < body.size()) {
        if (body[i] != '"')
            return false;
        const size_t keyEnd = skipString(body, i);
        if (keyEnd == npos)
            return false;
        const std::string_view key = body.substr(i + 1, keyEnd - i - 2);
        i = skipWs(body, keyEnd);
        if (i >= body.size() || body[i] != ':')
            return false;
        const size_t vBegin = skipWs(body, i + 1);
        const size_t vEnd = skipValue(body, vBegin);
        if (vEnd == npos)
            return false;
        if (key == "params")
            params = body.substr(vBegin, vEnd - vBegin);
        i = skipWs(body, vEnd);
        if (i < body.size() && body[i] == ',') {
            i = skipWs(body, i + 1);
            continue;
        }
        return i < body.size() && body[i] == '}' && skipWs(body, i + 1) == body.size();
    }
    return false;
}

// ---------------------------------------------------------------- HTTP




struct Options
{
    std::string host = "127.0.0.1";
    int port = 0;
    int threads = 1;
    int delayMs = 0;
};

constexpr size_t MaxHead = 16 * 1024;
constexpr size_t MaxBody = 16 * 1024 * 1024;

struct Conn
{
    int fd = -1;
    uint64_t generation = 0; // changes when the slot is reused: stale delayed replies are dropped
    std::string in;
    size_t inPos = 0;
    std::string out;
    size_t outPos = 0;
    bool pollOut = false;
    bool closeAfterWrite = false; // the last reply is queued: close once written
    int delayed = 0;              // replies still waiting in the delay queue
};

struct Delayed
{
    int64_t dueNs;
    size_t slot;
    uint64_t generation;
    std::string reply;
    bool close; // close the connection after this reply
};

class Worker
{
public:
    Worker(const Options &o, int listenFd)
        : m_o(o)
        , m_listen(listenFd)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        m_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ListenKey;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listen, &ev);
        ev.data.u64 = TimerKey;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_timer, &ev);
    }

    void run()
    {
        std::vector<epoll_event> events(512);
        while (!g_stop.load(std::memory_order_relaxed)) {
            const int n = epoll_wait(m_epoll, events.data(), int(events.size()), 200);
            for (int k = 0; k < n; ++k) {
                const uint64_t key = events[size_t(k)].data.u64;
                if (key == ListenKey)
                    acceptAll();
                else if (key == TimerKey)
                    onTimer();
                else
                    onEvent(size_t(key), events[size_t(k)].events);
            }
        }
    }

private:
    static constexpr uint64_t ListenKey = ~uint64_t(0);
    static constexpr uint64_t TimerKey = ~uint64_t(0) - 1;

    void acceptAll()
    {
        for (;;) {
            const int fd = accept4(m_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                return; // EAGAIN (another worker took it), or out of descriptors: try again later
            }
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            size_t slot;
            if (!m_free.empty()) {
                slot = m_free.back();
                m_free.pop_back();
            } else {
                slot = m_conns.size();
                m_conns.emplace_back();
            }
            Conn &c = m_conns[slot];
            const uint64_t generation = c.generation + 1;
            c = Conn();
            c.fd = fd;
            c.generation = generation;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.u64 = slot;
            epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
        }
    }

    void closeConn(size_t slot)
    {
        Conn &c = m_conns[slot];
        if (c.fd < 0)
            return;
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
        ++c.generation;
        c.in = std::string();
        c.out = std::string();
        c.inPos = c.outPos = 0;
        m_free.push_back(slot);
    }

    void onEvent(size_t slot, uint32_t events)
    {
        Conn &c = m_conns[slot];
        if (c.fd < 0)
            return;
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            if (!readAll(slot))
                return;
        }
        flush(slot);
    }

    // Reads what there is and answers every complete request. False when the
    // connection was closed.
    bool readAll(size_t slot)
    {
        Conn &c = m_conns[slot];
        bool eof = false;
        for (;;) {
            if (c.inPos > 0 && c.inPos == c.in.size()) {
                c.in.clear();
                c.inPos = 0;
            } else if (c.inPos > 65536) {
                c.in.erase(0, c.inPos);
                c.inPos = 0;
            }
            // Read into the worker's buffer, then append: an idle connection
            // keeps only what it has been sent, not a 64 KiB buffer.
            const ssize_t n = recv(c.fd, m_buffer, sizeof m_buffer, 0);
            if (n > 0) {
                c.in.append(m_buffer, size_t(n));
                if (size_t(n) < sizeof m_buffer)
                    break;
                continue;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            closeConn(slot);
            return false;
        }
        if (!c.closeAfterWrite)
            processRequests(slot);
        if (eof) {
            // The client is done sending: write what is ready and close.
            // Delayed replies still owed are dropped (a peer that only
            // half-closed would miss them; none of the benchmarks does that).
            flush(slot);
            closeConn(slot);
            return false;
        }
        return true;
    }

    void processRequests(size_t slot)
    {
        Conn &c = m_conns[slot];
        while (!c.closeAfterWrite) {
            const std::string_view data(c.in.data() + c.inPos, c.in.size() - c.inPos);
            const size_t headEnd = data.find("\r\n\r\n");
            if (headEnd == npos) {
                if (data.size() > MaxHead)
                    reply(slot, 431, "{\"error\":\"request head too large\"}", true);
                return;
            }
            const std::string_view head = data.substr(0, headEnd + 2);
            size_t eol = head.find("\r\n");
            const std::string_view requestLine = head.substr(0, eol);
            const size_t sp1 = requestLine.find(' ');
            const size_t sp2 = sp1 == npos ? npos : requestLine.find(' ', sp1 + 1);
            if (sp2 == npos) {
                reply(slot, 400, "{\"error\":\"malformed request line\"}", true);
                return;
            }
            const std::string_view method = requestLine.substr(0, sp1);
            const std::string_view version = requestLine.substr(sp2 + 1);
            if (version != "HTTP/1.1" && version != "HTTP/1.0") {
                reply(slot, 505, "{\"error\":\"HTTP/1.1 only\"}", true);
                return;
            }
            bool keepAlive = version == "HTTP/1.1";
            size_t contentLength = 0;
            bool chunked = false, expectContinue = false, badLength = false;
            std::string_view rest = head.substr(eol + 2);
            while (!rest.empty()) {
                eol = rest.find("\r\n");
                const std::string_view line = rest.substr(0, eol);
                rest.remove_prefix(eol == npos ? rest.size() : eol + 2);
                const size_t colon = line.find(':');
                if (colon == npos)
                    continue;
                const std::string_view name = line.substr(0, colon);
                const std::string_view value = trim(line.substr(colon + 1));
                if (iequals(name, "Content-Length")) {
                    if (value.empty() || value.size() > 9)
                        badLength = true;
                    contentLength = 0;
                    for (const char ch : value) {
                        if (ch < '0' || ch > '9')
                            badLength = true;
                        else
                            contentLength = contentLength * 10 + size_t(ch - '0');
                    }
                } else if (iequals(name, "Transfer-Encoding")) {
                    chunked = true;
                } else if (iequals(name, "Connection")) {
                    if (hasToken(value, "close"))
                        keepAlive = false;
                    else if (hasToken(value, "keep-alive"))
                        keepAlive = true;
                } else if (iequals(name, "Expect")) {
                    expectContinue = iequals(value, "100-continue");
                }
            }
            if (chunked) {
                reply(slot, 501, "{\"error\":\"chunked request bodies are not supported\"}", true);
                return;
            }
            if (badLength || contentLength > MaxBody) {
                reply(slot, 400, "{\"error\":\"bad Content-Length\"}", true);
                return;
            }
            const size_t total = headEnd + 4 + contentLength;
            if (data.size() < total) {
                if (expectContinue && data.size() == headEnd + 4) {
                    c.out += "HTTP/1.1 100 Continue\r\n\r\n";
                    expectContinue = false;
                }
                return; // the rest of the body has not arrived yet
            }
            const std::string_view body = data.substr(headEnd + 4, contentLength);
            c.inPos += total;
            if (method != "POST") {
                reply(slot, 405, "{\"error\":\"POST only\"}", !keepAlive);
                continue;
            }
            std::string_view params;
            if (!findParams(body, params)) {
                reply(slot, 400, "{\"error\":\"the body is not a JSON object\"}", !keepAlive);
                continue;
            }
            std::string result;
            result.reserve(params.size() + 12);
            result += "{\"result\":";
            result += params;
            result += '}';
            reply(slot, 200, result, !keepAlive);
        }
    }

    void reply(size_t slot, int status, std::string_view body, bool close)
    {
        Conn &c = m_conns[slot];
        const char *reason = status == 200 ? "OK"
            : status == 400               ? "Bad Request"
            : status == 405               ? "Method Not Allowed"
            : status == 431               ? "Request Header Fields Too Large"
            : status == 501               ? "Not Implemented"
                                          : "HTTP Version Not Supported";
        std::string r;
        r.reserve(body.size() + 128);
        r += "HTTP/1.1 ";
        r += std::to_string(status);
        r += ' ';
        r += reason;
        r += "\r\nContent-Type: application/json\r\nContent-Length: ";
        r += std::to_string(body.size());
        r += close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
        r += body;
        if (close)
            c.closeAfterWrite = true;
        if (m_o.delayMs > 0) {
            const bool wasEmpty = m_delayed.empty();
            m_delayed.push_back({nowNs() + int64_t(m_o.delayMs) * 1000000, slot, c.generation, std::move(r), close});
            ++c.delayed;
            if (wasEmpty)
                armTimer();
            return;
        }
        c.out += r;
    }

    void armTimer()
    {
        itimerspec its{};
        if (!m_delayed.empty()) {
            const int64_t due = m_delayed.front().dueNs;
            its.it_value.tv_sec = time_t(due / 1000000000);
            its.it_value.tv_nsec = long(due % 1000000000);
        }
        timerfd_settime(m_timer, TFD_TIMER_ABSTIME, &its, nullptr);
    }

    void onTimer()
    {
        uint64_t expirations;
        while (read(m_timer, &expirations, sizeof expirations) > 0) {
        }
        const int64_t now = nowNs();
        std::vector<size_t> touched;
        while (!m_delayed.empty() && m_delayed.front().dueNs <= now) {
            Delayed &d = m_delayed.front();
            Conn &c = m_conns[d.slot];
            if (c.fd >= 0 && c.generation == d.generation) {
                c.out += d.reply;
                --c.delayed;
                touched.push_back(d.slot);
            }
            m_delayed.pop_front();
        }
        armTimer();
        for (const size_t slot : touched)
            flush(slot);
    }

    void flush(size_t slot)
    {
        Conn &c = m_conns[slot];
        if (c.fd < 0)
            return;
        while (c.outPos < c.out.size()) {
            const ssize_t n = send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
            if (n > 0) {
                c.outPos += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            closeConn(slot);
            return;
        }
        if (c.outPos == c.out.size()) {
            c.out.clear();
            c.outPos = 0;
            if (c.closeAfterWrite && c.delayed == 0) {
                closeConn(slot);
                return;
            }
        }
        const bool want = c.outPos < c.out.size();
        if (want != c.pollOut) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t(EPOLLOUT) : 0u);
            ev.data.u64 = slot;
            epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
            c.pollOut = want;
        }
    }

    const Options &m_o;
    int m_listen;
    int m_epoll = -1;
    int m_timer = -1;
    std::deque<Conn> m_conns; // deque: references stay valid while slots are added
    std::vector<size_t> m_free;
    std::deque<Delayed> m_delayed;
    char m_buffer[65536];
};

[[noreturn]] void usage(const char *why)
{
    std::fprintf(stderr,
                 "fast_upstream: %s\n"
                 "usage: fast_upstream [--port 0] [--host 127.0.0.1] [--threads N] [--delay-ms N]\n",
                 why);
    std::exit(2);
}

int listenOn(const Options &o, int port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int k = 1; k < argc; ++k) {
        const std::string a = argv[k];
        if (k + 1 >= argc)
            usage(("missing value for " + a).c_str());
        const char *v = argv[++k];
        if (a == "--port")
            o.port = std::atoi(v);
        else if (a == "--host")
            o.host = v;
        else if (a == "--threads")
            o.threads = std::atoi(v);
        else if (a == "--delay-ms")
            o.delayMs = std::atoi(v);
        else
            usage(("unknown option " + a).c_str());
    }
    if (o.port < 0 || o.port > 65535 || o.threads < 1 || o.threads > 64 || o.delayMs < 0)
        usage("bad number");
    in_addr probe{};
    if (inet_pton(AF_INET, o.host.c_str(), &probe) != 1 || (ntohl(probe.s_addr) >> 24) != 127)
        usage("--host must be a loopback IPv4 address");

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa{};
    sa.sa_handler = [](int) { g_stop.store(true); };
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    // The first socket picks the port (--port 0); the others join it.
    std::vector<int> listeners;
    int port = o.port;
    for (int k = 0; k < o.threads; ++k) {
        const int fd = listenOn(o, port);
        if (fd < 0) {
            std::fprintf(stderr, "fast_upstream: cannot listen on %s:%d: %s\n", o.host.c_str(), port,
                         std::strerror(errno));
            return 1;
        }
        if (k == 0) {
            sockaddr_in bound{};
            socklen_t len = sizeof bound;
            getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &len);
            port = ntohs(bound.sin_port);
        }
        listeners.push_back(fd);
    }
    std::printf("listening http://%s:%d\n", o.host.c_str(), port);
    std::fflush(stdout);

    std::vector<std::thread> threads;
    for (int k = 1; k < o.threads; ++k)
        threads.emplace_back([&o, fd = listeners[size_t(k)]] { Worker(o, fd).run(); });
    Worker(o, listeners[0]).run();
    for (std::thread &t : threads)
        t.join();
    return 0;
}
