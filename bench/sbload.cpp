// sbload: the load client of Switchboard's benchmarks (bench/run.sh,
// docs/PERFORMANCE.md). Deliberately without Qt: one thread, epoll,
// non-blocking sockets, writes coalesced per wake-up, so the client costs
// far less per message than the servers it measures.
//
//   sbload ws   --port P [--conns N] [--depth D] [--duration S] [--warmup S] [--messages M] [--echo]
//   sbload idle --port P [--conns N] [--hold S] [--parallel K] [--echo]
//   sbload http --port P [--conns N] [--duration S] [--warmup S] [--path /health]
//   sbload upstream --port P [--conns N] [--depth D] [--duration S] [--warmup S] [--path /rpc]
//               [--method echo]
//   sbload soak --port P [--conns N] [--depth D] [--duration S] [--churn-rate R]
//               [--churn-requests K] [--churn-abort PCT]
//
// ws:   N WebSocket connections (subprotocol `jsonrpc`, 101 fully checked),
//       each keeping D JSON-RPC echo requests outstanding; every reply's id
//       and result are checked. Reports messages/s and latency percentiles
//       of the replies received in the measurement window (after the warm-up).
//       --echo: the server is a plain WebSocket echo server (one that
//       negotiates no subprotocol and sends every message back verbatim):
//       no subprotocol is offered, the 101 must name none, and each reply
//       must equal its request byte for byte. Every other check stays.
// idle: opens N WebSocket connections (at most --parallel handshakes at a
//       time), prints {"event":"connected",...}, holds them for --hold
//       seconds (or until SIGTERM/SIGINT), answering pings, and reports how
//       many were still open. --echo: the handshake as for ws --echo.
// http: N keep-alive connections, each with one GET outstanding.
// upstream: drives an upstream of PRODUCT.md section 7 directly, as
//       Switchboard would: N keep-alive connections, each with D POSTs
//       outstanding (D > 1 is HTTP/1.1 pipelining: the requests go out back
//       to back and the replies are matched in order), each body exactly an
//       upstream call's: {"method":M,"params":[ID,"sbload"],"id":ID,
//       "connection":{"id":K,"subprotocol":"jsonrpc","path":"/","peer":
//       "127.0.0.1:PORT","origin":null,"user":null}}. Every reply must be
//       200 with {"result":[ID,"sbload"]} (the params echoed, as
//       bench/fast_upstream does). Same result line as ws.
// soak: the ws load and, throughout, a churn of short-lived connections: R new
//       ones a second, each through the jsonrpc handshake (101 checked), then
//       K requests (replies checked) and a close with RST (SO_LINGER 0).
//       PCT percent of them abort on purpose instead: half in the middle of
//       the handshake request, half right after sending their requests. One
//       {"event":"tick",...} line a second; the result counts wrong replies,
//       handshake failures and churn connections opened/completed/aborted.
//
// Output: one JSON object per line on stdout (the last one is the result).
// Exit code 0 when no error was seen, 1 otherwise, 2 for bad arguments.
// Always stops by itself: --duration/--messages end the load, --timeout
// (default 120 s) ends the whole run. Only loopback addresses are accepted.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "benchtext.h"

namespace {

using bench::hasToken;
using bench::iequals;
using bench::nowNs;
using bench::trim;

// Set by SIGTERM/SIGINT in idle mode: the hold ends early and the result is still printed
// (bench/run.sh holds idle connections for as long as a case needs them).
volatile sig_atomic_t holdInterrupted = 0;

// ---------------------------------------------------------------- time


// ---------------------------------------------------------------- SHA-1, base64 (RFC 3174, RFC 4648)

struct Sha1
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    unsigned char block[64];
    size_t blockLen = 0;
    uint64_t totalBits = 0;

    static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

    void compress()
    {
        uint32_t w[80];
        for (int i = 0; i < 16; ++i)
            w[i] = uint32_t(block[4 * i]) << 24 | uint32_t(block[4 * i + 1]) << 16
                | uint32_t(block[4 * i + 2]) << 8 | uint32_t(block[4 * i + 3]);
        for (int i = 16; i < 80; ++i)
            w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            const uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }

    void update(const void *data, size_t len)
    {
        const auto *p = static_cast<const unsigned char *>(data);
        totalBits += uint64_t(len) * 8;
        while (len--) {
            block[blockLen++] = *p++;
            if (blockLen == 64) {
                compress();
                blockLen = 0;
            }
        }
    }

    std::string digest()
    {
        const uint64_t bits = totalBits;
        const unsigned char pad80 = 0x80, zero = 0;
        update(&pad80, 1);
        while (blockLen != 56)
            update(&zero, 1);
        unsigned char len[8];
        for (int i = 0; i < 8; ++i)
            len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(len, 8);
        std::string out(20, '\0');
        for (int i = 0; i < 20; ++i)
            out[size_t(i)] = char(h[i / 4] >> (24 - 8 * (i % 4)));
        return out;
    }
};

std::string base64(std::string_view in)
{
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string acceptFor(const std::string &key)
{
    Sha1 sha;
    const std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    sha.update(s.data(), s.size());
    return base64(sha.digest());
}

// xorshift64*: mask keys and handshake keys; not cryptographic, need not be.
uint64_t rngState = 0x9E3779B97F4A7C15ull;
uint64_t rng()
{
    rngState ^= rngState >> 12;
    rngState ^= rngState << 25;
    rngState ^= rngState >> 27;
    return rngState * 0x2545F4914F6CDD1Dull;
}

// ---------------------------------------------------------------- tiny JSON scanning

size_t skipWs(std::string_view s, size_t i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        ++i;
    return i;
}

// End of the JSON value at `i` (after leading whitespace), or npos.
size_t skipValue(std::string_view s, size_t i)
{
    i = skipWs(s, i);
    if (i >= s.size())
        return std::string_view::npos;
    if (s[i] == '"') {
        for (++i; i < s.size(); ++i) {
            if (s[i] == '\\')
                ++i;
            else if (s[i] == '"')
                return i + 1;
        }
        return std::string_view::npos;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '"') {
                for (++i; i < s.size() && s[i] != '"'; ++i)
                    if (s[i] == '\\')
                        ++i;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return std::string_view::npos;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n')
        ++i;
    return i;
}

struct Reply
{
    std::string_view jsonrpc, id, result, error;
};

// Raw text of the top-level members of a JSON-RPC reply object.
bool scanReply(std::string_view s, Reply &r)
{
    size_t i = skipWs(s, 0);
    if (i >= s.size() || s[i] != '{')
        return false;
    i = skipWs(s, i + 1);
    if (i < s.size() && s[i] == '}')
        return true;
    while (i < s.size()) {
        if (s[i] != '"')
            return false;
        const size_t keyEnd = skipValue(s, i);
        if (keyEnd == std::string_view::npos)
            return false;
        const std::string_view key = s.substr(i + 1, keyEnd - i - 2);
        i = skipWs(s, keyEnd);
        if (i >= s.size() || s[i] != ':')
            return false;
        const size_t vBegin = skipWs(s, i + 1);
        const size_t vEnd = skipValue(s, vBegin);
        if (vEnd == std::string_view::npos)
            return false;
        const std::string_view value = s.substr(vBegin, vEnd - vBegin);
        if (key == "jsonrpc")
            r.jsonrpc = value;
        else if (key == "id")
            r.id = value;
        else if (key == "result")
            r.result = value;
        else if (key == "error")
            r.error = value;
        i = skipWs(s, vEnd);
        if (i < s.size() && s[i] == ',') {
            i = skipWs(s, i + 1);
            continue;
        }
        return i < s.size() && s[i] == '}';
    }
    return false;
}

// ---------------------------------------------------------------- options

enum class Mode { Ws, Idle, Http, Soak, Upstream };

struct Options
{
    Mode mode = Mode::Ws;
    std::string host = "127.0.0.1";
    int port = 0;
    int conns = 1;
    int depth = 1;
    double duration = 5;
    double warmup = 1;
    uint64_t messages = 0; // 0: no count limit
    double hold = 3;
    double timeout = 120;
    int parallel = 64; // connects/handshakes in flight at once
    std::string path;
    std::string subprotocol = "jsonrpc";
    bool echo = false; // the peer is a plain echo server (see the head of this file)
    std::string method = "echo";
    int payload = 0; // extra bytes of padding in params
    std::string label;
    double churnRate = 200;  // soak: new short-lived connections per second
    int churnRequests = 3;   // soak: requests each one sends
    int churnAbortPct = 20;  // soak: share of them that abort on purpose
    double churnTimeout = 10; // soak: a short-lived connection not done by then is an error
};

[[noreturn]] void usage(const char *why)
{
    std::fprintf(stderr,
                 "sbload: %s\n"
                 "usage: sbload ws|idle|http|soak|upstream --port P [--host 127.0.0.1] [--conns N] [--depth D]\n"
                 "              [--duration S] [--warmup S] [--messages M] [--hold S] [--timeout S]\n"
                 "              [--parallel K] [--path P] [--subprotocol NAME] [--method NAME]\n"
                 "              [--payload BYTES] [--label TEXT] [--echo]\n"
                 "              [--churn-rate R] [--churn-requests K] [--churn-abort PCT]   (soak)\n",
                 why);
    std::exit(2);
}

Options parseOptions(int argc, char **argv)
{
    Options o;
    if (argc < 2)
        usage("missing mode");
    const std::string mode = argv[1];
    if (mode == "ws")
        o.mode = Mode::Ws;
    else if (mode == "idle")
        o.mode = Mode::Idle;
    else if (mode == "http")
        o.mode = Mode::Http;
    else if (mode == "soak")
        o.mode = Mode::Soak;
    else if (mode == "upstream")
        o.mode = Mode::Upstream;
    else
        usage("mode must be ws, idle, http, soak or upstream");
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--echo") {
            o.echo = true;
            continue;
        }
        if (i + 1 >= argc)
            usage(("missing value for " + a).c_str());
        const char *v = argv[++i];
        if (a == "--host")
            o.host = v;
        else if (a == "--port")
            o.port = std::atoi(v);
        else if (a == "--conns")
            o.conns = std::atoi(v);
        else if (a == "--depth")
            o.depth = std::atoi(v);
        else if (a == "--duration")
            o.duration = std::atof(v);
        else if (a == "--warmup")
            o.warmup = std::atof(v);
        else if (a == "--messages")
            o.messages = std::strtoull(v, nullptr, 10);
        else if (a == "--hold")
            o.hold = std::atof(v);
        else if (a == "--timeout")
            o.timeout = std::atof(v);
        else if (a == "--parallel")
            o.parallel = std::atoi(v);
        else if (a == "--path")
            o.path = v;
        else if (a == "--subprotocol")
            o.subprotocol = v;
        else if (a == "--method")
            o.method = v;
        else if (a == "--payload")
            o.payload = std::atoi(v);
        else if (a == "--label")
            o.label = v;
        else if (a == "--churn-rate")
            o.churnRate = std::atof(v);
        else if (a == "--churn-requests")
            o.churnRequests = std::atoi(v);
        else if (a == "--churn-abort")
            o.churnAbortPct = std::atoi(v);
        else
            usage(("unknown option " + a).c_str());
    }
    if (o.port <= 0 || o.port > 65535)
        usage("--port is required");
    if (o.conns < 1 || o.depth < 1 || o.parallel < 1 || o.duration < 0 || o.warmup < 0 || o.timeout <= 0
        || o.churnRate < 0 || o.churnRequests < 1 || o.churnAbortPct < 0 || o.churnAbortPct > 100)
        usage("bad number");
    if (o.echo && o.mode != Mode::Ws && o.mode != Mode::Idle)
        usage("--echo is for ws and idle");
    if (o.path.empty())
        o.path = o.mode == Mode::Http ? "/health" : o.mode == Mode::Upstream ? "/rpc" : "/";
    return o;
}

// ---------------------------------------------------------------- connections

struct Connection
{
    enum class State { Idle, Connecting, Handshaking, Open, Closing, Done };
    // What a short-lived (churn) connection of the soak does.
    enum class Plan { Load, Complete, AbortMidHandshake, AbortBeforeReplies };
    int fd = -1;
    uint64_t slotKey = 0;   // epoll data: index in m_conns, or ChurnBase + slot
    Plan plan = Plan::Load; // Load: one of the N long-lived connections
    int64_t startedNs = 0;
    State state = State::Idle;
    std::string in;
    size_t inPos = 0;
    std::string out;
    size_t outPos = 0;
    bool pollOut = false;
    std::string key;
    std::string connectionJson; // upstream mode: the body's "connection" member
    std::string fragment;   // text message being reassembled from continuation frames
    bool fragmented = false;
    struct Pending
    {
        uint64_t id;
        int64_t sentNs;
    };
    std::deque<Pending> pending;
};

struct Stats
{
    uint64_t errors = 0;
    uint64_t wrongReplies = 0;       // replies that failed a check (not JSON, error, wrong id or result)
    uint64_t handshakeFailures = 0;  // anything but a correct 101
    std::string firstError;
    uint64_t sent = 0;
    uint64_t received = 0;
    uint64_t windowCount = 0;
    uint64_t outOfOrder = 0;
    std::vector<uint32_t> latencyNs; // replies inside the window
};

// Connections in each phase, kept apart for the long-lived ones and the churn.
struct Tally
{
    int inFlight = 0; // connects and handshakes under way
    int open = 0;
    int failed = 0;
    int dropped = 0;  // open connections that ended before we closed them
};

constexpr uint64_t ChurnBase = uint64_t(1) << 40;

class Client
{
public:
    explicit Client(const Options &o)
        : m_o(o)
        , m_conns(size_t(o.conns))
    {
        for (size_t i = 0; i < m_conns.size(); ++i)
            m_conns[i].slotKey = i;
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        std::memset(&m_addr, 0, sizeof m_addr);
        m_addr.sin_family = AF_INET;
        m_addr.sin_port = htons(uint16_t(o.port));
        if (inet_pton(AF_INET, o.host.c_str(), &m_addr.sin_addr) != 1)
            usage("--host must be an IPv4 address");
        if ((ntohl(m_addr.sin_addr.s_addr) >> 24) != 127)
            usage("only loopback (127.0.0.0/8) is allowed");
        const size_t reserve = o.mode == Mode::Idle ? 0 : 4 * 1024 * 1024;
        m_stats.latencyNs.reserve(reserve);
        m_request.reserve(256);
        char pad[] = "sbload";
        m_pad = pad;
        for (int i = 0; i < o.payload; ++i)
            m_pad += char('a' + i % 26);
    }

    int run();

private:
    void error(Connection &c, const std::string &what);
    void startConnect(size_t index);
    void onEvent(size_t index, uint32_t events);
    void onConnected(Connection &c);
    void onReadable(size_t index);
    bool processHandshake(Connection &c);
    void processFrames(Connection &c);
    void processHttp(Connection &c);
    void onText(Connection &c, std::string_view message);
    void queueFrame(Connection &c, int opcode, std::string_view payload);
    void queueRequest(Connection &c);
    // m_request = `opening` METHOD","params":[ID,"PAD"],"id":ID (the caller closes the object).
    void buildCall(uint64_t id, const char *opening);
    // m_request = the whole JSON-RPC request of the ws modes.
    void buildWsRequest(uint64_t id)
    {
        buildCall(id, "{\"jsonrpc\":\"2.0\",\"method\":\"");
        m_request += '}';
    }
    using PendingIt = std::deque<Connection::Pending>::iterator;
    std::optional<PendingIt> findAnswered(Connection &c, std::string_view message);
    std::optional<PendingIt> findEchoed(Connection &c, std::string_view message);
    void flush(Connection &c);
    void closeConnection(Connection &c, Connection::State to);
    void updatePoll(Connection &c, size_t index);
    bool sending() const;
    void record(int64_t sentNs, int64_t now);
    void printResult(int64_t connectEndNs);
    Connection &connAt(uint64_t key) { return key >= ChurnBase ? m_churn[size_t(key - ChurnBase)] : m_conns[size_t(key)]; }
    Tally &tally(const Connection &c) { return c.plan == Connection::Plan::Load ? m_main : m_churnTally; }
    void wrongReply(Connection &c, const std::string &what);
    void startChurn();
    void onChurnOpen(Connection &c);
    void onChurnReply(Connection &c);
    int churnActive() const { return int(m_churn.size() - m_churnFree.size()); }
    void expireChurn(int64_t now);
    void printTick(int64_t now);

    const Options m_o;
    std::vector<Connection> m_conns;
    int m_epoll = -1;
    sockaddr_in m_addr;
    Stats m_stats;
    std::string m_request;
    std::string m_pad;
    uint64_t m_nextId = 1;
    size_t m_nextToConnect = 0;
    Tally m_main;
    Tally m_churnTally;
    std::deque<Connection> m_churn; // deque: a new slot leaves references to the others valid
    std::vector<size_t> m_churnFree;
    uint64_t m_churnOpened = 0, m_churnCompleted = 0, m_churnAborted = 0;
    int m_tick = 0;
    uint64_t m_tickReceived = 0;
    bool m_loadRunning = false;
    bool m_stopping = false;
    int64_t m_start = 0, m_windowBegin = 0, m_windowEnd = 0;
};

void Client::error(Connection &c, const std::string &what)
{
    ++m_stats.errors;
    if (m_stats.firstError.empty())
        m_stats.firstError = what;
    if (c.state != Connection::State::Done)
        closeConnection(c, Connection::State::Done);
}

void Client::startConnect(size_t index)
{
    Connection &c = connAt(index);
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        ++tally(c).failed;
        c.state = Connection::State::Done;
        ++m_stats.errors;
        if (m_stats.firstError.empty())
            m_stats.firstError = std::string("socket: ") + std::strerror(errno);
        return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.state = Connection::State::Connecting;
    ++tally(c).inFlight;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = index;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    c.pollOut = true;
    if (connect(c.fd, reinterpret_cast<sockaddr *>(&m_addr), sizeof m_addr) != 0 && errno != EINPROGRESS) {
        --tally(c).inFlight;
        ++tally(c).failed;
        error(c, std::string("connect: ") + std::strerror(errno));
    }
}

void Client::onConnected(Connection &c)
{
    if (m_o.mode == Mode::Upstream) {
        sockaddr_in local{};
        socklen_t len = sizeof local;
        getsockname(c.fd, reinterpret_cast<sockaddr *>(&local), &len);
        c.connectionJson = "{\"id\":" + std::to_string(c.slotKey + 1)
            + ",\"subprotocol\":\"jsonrpc\",\"path\":\"/\",\"peer\":\"127.0.0.1:"
            + std::to_string(ntohs(local.sin_port)) + "\",\"origin\":null,\"user\":null}";
    }
    if (m_o.mode == Mode::Http || m_o.mode == Mode::Upstream) {
        c.state = Connection::State::Open;
        --tally(c).inFlight;
        ++tally(c).open;
        return;
    }
    char raw[16];
    for (int i = 0; i < 16; i += 8) {
        const uint64_t r = rng();
        std::memcpy(raw + i, &r, 8);
    }
    c.key = base64(std::string_view(raw, 16));
    c.out += "GET " + m_o.path + " HTTP/1.1\r\nHost: " + m_o.host + ":" + std::to_string(m_o.port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        + c.key + "\r\n";
    if (!m_o.echo)
        c.out += "Sec-WebSocket-Protocol: " + m_o.subprotocol + "\r\n";
    c.out += "\r\n";
    c.state = Connection::State::Handshaking;
}




// Status code and header fields of a response head (up to, not including, the blank line).
struct ResponseHead
{
    int status = 0;
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    std::string_view field(std::string_view name) const
    {
        for (const auto &[k, v] : fields)
            if (iequals(k, name))
                return v;
        return {};
    }
    int count(std::string_view name) const
    {
        int n = 0;
        for (const auto &f : fields)
            n += iequals(f.first, name);
        return n;
    }
};

bool parseHead(std::string_view head, ResponseHead &r)
{
    size_t eol = head.find("\r\n");
    const std::string_view statusLine = head.substr(0, eol);
    if (statusLine.size() < 12 || statusLine.substr(0, 9) != "HTTP/1.1 ")
        return false;
    r.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 2);
        eol = head.find("\r\n");
        const std::string_view line = head.substr(0, eol);
        if (line.empty())
            break;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            return false;
        r.fields.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
    }
    return true;
}

bool Client::processHandshake(Connection &c)
{
    const std::string_view data(c.in.data() + c.inPos, c.in.size() - c.inPos);
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (data.size() > 16384)
            error(c, "handshake: response head too large");
        return false;
    }
    ResponseHead head;
    std::string why;
    if (!parseHead(data.substr(0, end + 2), head))
        why = "malformed response head";
    else if (head.status != 101)
        why = "status " + std::to_string(head.status) + " instead of 101: "
            + std::string(data.substr(end + 4, 200));
    else if (!iequals(head.field("Upgrade"), "websocket"))
        why = "Upgrade is not websocket";
    else if (!hasToken(head.field("Connection"), "Upgrade"))
        why = "Connection lacks Upgrade";
    else if (head.count("Sec-WebSocket-Accept") != 1 || head.field("Sec-WebSocket-Accept") != acceptFor(c.key))
        why = "wrong Sec-WebSocket-Accept";
    else if (m_o.echo && head.count("Sec-WebSocket-Protocol") != 0)
        why = "Sec-WebSocket-Protocol named although none was offered";
    else if (!m_o.echo
             && (head.count("Sec-WebSocket-Protocol") != 1 || head.field("Sec-WebSocket-Protocol") != m_o.subprotocol))
        why = "Sec-WebSocket-Protocol is not " + m_o.subprotocol;
    if (!why.empty()) {
        --tally(c).inFlight;
        ++tally(c).failed;
        ++m_stats.handshakeFailures;
        error(c, "handshake: " + why);
        return false;
    }
    c.inPos += end + 4;
    c.state = Connection::State::Open;
    --tally(c).inFlight;
    ++tally(c).open;
    if (c.plan != Connection::Plan::Load)
        onChurnOpen(c);
    return true;
}

void Client::queueFrame(Connection &c, int opcode, std::string_view payload)
{
    const size_t len = payload.size();
    const size_t start = c.out.size();
    unsigned char head[14];
    size_t h = 0;
    head[h++] = static_cast<unsigned char>(0x80 | opcode);
    if (len < 126) {
        head[h++] = static_cast<unsigned char>(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = static_cast<unsigned char>(len >> 8);
        head[h++] = static_cast<unsigned char>(len);
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            head[h++] = static_cast<unsigned char>(uint64_t(len) >> (8 * i));
    }
    const uint32_t mask = uint32_t(rng() >> 32);
    std::memcpy(head + h, &mask, 4);
    const unsigned char *m = head + h;
    h += 4;
    c.out.append(reinterpret_cast<const char *>(head), h);
    c.out.append(payload.data(), len);
    char *p = &c.out[start + h];
    for (size_t i = 0; i < len; ++i)
        p[i] = char(p[i] ^ m[i & 3]);
}

bool Client::sending() const
{
    if (!m_loadRunning || m_stopping)
        return false;
    if (m_o.messages && m_stats.sent >= m_o.messages)
        return false;
    return true;
}

void Client::buildCall(uint64_t id, const char *opening)
{
    char num[24];
    const int n = std::snprintf(num, sizeof num, "%" PRIu64, id);
    m_request.clear();
    m_request += opening;
    m_request += m_o.method;
    m_request += "\",\"params\":[";
    m_request.append(num, size_t(n));
    m_request += ",\"";
    m_request += m_pad;
    m_request += "\"],\"id\":";
    m_request.append(num, size_t(n));
}

void Client::queueRequest(Connection &c)
{
    const uint64_t id = m_nextId++;
    if (m_o.mode == Mode::Http) {
        c.out += "GET " + m_o.path + " HTTP/1.1\r\nHost: " + m_o.host + ":" + std::to_string(m_o.port) + "\r\n\r\n";
    } else if (m_o.mode == Mode::Upstream) {
        buildCall(id, "{\"method\":\"");
        m_request += ",\"connection\":";
        m_request += c.connectionJson;
        m_request += '}';
        c.out += "POST " + m_o.path + " HTTP/1.1\r\nHost: " + m_o.host + ":" + std::to_string(m_o.port)
            + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(m_request.size())
            + "\r\n\r\n";
        c.out += m_request;
    } else {
        buildWsRequest(id);
        queueFrame(c, 1, m_request);
    }
    c.pending.push_back({id, nowNs()});
    ++m_stats.sent;
}

void Client::record(int64_t sentNs, int64_t now)
{
    ++m_stats.received;
    if (now >= m_windowBegin && now < m_windowEnd && sentNs >= m_windowBegin) {
        ++m_stats.windowCount;
        const int64_t d = now - sentNs;
        if (m_stats.latencyNs.size() < 50'000'000)
            m_stats.latencyNs.push_back(uint32_t(std::min<int64_t>(d, UINT32_MAX)));
    }
}

void Client::onText(Connection &c, std::string_view message)
{
    if (m_o.mode == Mode::Idle) {
        error(c, "unexpected text message while idle");
        return;
    }
    const auto answered = m_o.echo ? findEchoed(c, message) : findAnswered(c, message);
    if (!answered)
        return;
    const auto it = *answered;
    if (it != c.pending.begin())
        ++m_stats.outOfOrder; // a server may answer out of order
    const int64_t sent = it->sentNs;
    c.pending.erase(it);
    if (c.plan != Connection::Plan::Load) {
        ++m_stats.received;
        onChurnReply(c);
        return;
    }
    record(sent, nowNs());
    if (sending())
        queueRequest(c);
}

// A JSON-RPC reply: the outstanding request it answers, with its result checked.
std::optional<Client::PendingIt> Client::findAnswered(Connection &c, std::string_view message)
{
    Reply r;
    if (!scanReply(message, r)) {
        wrongReply(c, "reply is not a JSON object: " + std::string(message.substr(0, 200)));
        return std::nullopt;
    }
    if (!r.error.empty()) {
        wrongReply(c, "error reply: " + std::string(message.substr(0, 300)));
        return std::nullopt;
    }
    if (r.jsonrpc != "\"2.0\"" || r.id.empty() || r.result.empty()) {
        wrongReply(c, "malformed reply: " + std::string(message.substr(0, 200)));
        return std::nullopt;
    }
    char num[24];
    const int n = std::snprintf(num, sizeof num, "%" PRIu64, c.pending.empty() ? 0 : c.pending.front().id);
    auto it = c.pending.begin();
    if (c.pending.empty() || r.id != std::string_view(num, size_t(n))) {
        it = std::find_if(c.pending.begin(), c.pending.end(), [&](const Connection::Pending &p) {
            return r.id == std::to_string(p.id);
        });
        if (it == c.pending.end()) {
            wrongReply(c, "reply with an unknown id: " + std::string(message.substr(0, 200)));
            return std::nullopt;
        }
    }
    const std::string idText = std::to_string(it->id);
    const std::string expected = "[" + idText + ",\"" + m_pad + "\"]";
    if (r.result != expected) {
        wrongReply(c, "wrong result for id " + idText + ": " + std::string(r.result.substr(0, 200)));
        return std::nullopt;
    }
    return it;
}

// --echo: the reply must be one outstanding request, byte for byte (the oldest, normally).
std::optional<Client::PendingIt> Client::findEchoed(Connection &c, std::string_view message)
{
    const auto isRequest = [&](uint64_t id) {
        buildWsRequest(id);
        return message == m_request;
    };
    if (!c.pending.empty() && isRequest(c.pending.front().id))
        return c.pending.begin();
    Reply r;
    const auto it = scanReply(message, r) && !r.id.empty()
        ? std::find_if(c.pending.begin(), c.pending.end(),
                       [&](const Connection::Pending &p) { return r.id == std::to_string(p.id); })
        : c.pending.end();
    if (it == c.pending.end() || !isRequest(it->id)) {
        wrongReply(c, "echo differs from every outstanding request: " + std::string(message.substr(0, 200)));
        return std::nullopt;
    }
    return it;
}

void Client::wrongReply(Connection &c, const std::string &what)
{
    ++m_stats.wrongReplies;
    error(c, what);
}

// ---------------------------------------------------------------- soak: short-lived connections

void Client::startChurn()
{
    size_t slot;
    if (!m_churnFree.empty()) {
        slot = m_churnFree.back();
        m_churnFree.pop_back();
    } else {
        slot = m_churn.size();
        m_churn.emplace_back();
    }
    Connection &c = m_churn[slot];
    c = Connection();
    c.slotKey = ChurnBase + slot;
    c.startedNs = nowNs();
    const uint64_t roll = rng() % 200; // half-percent steps: the aborts split in two
    const uint64_t abortShare = uint64_t(m_o.churnAbortPct);
    c.plan = roll < abortShare ? Connection::Plan::AbortMidHandshake
        : roll < 2 * abortShare ? Connection::Plan::AbortBeforeReplies
                                : Connection::Plan::Complete;
    ++m_churnOpened;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        ++m_churnTally.failed;
        ++m_stats.errors;
        if (m_stats.firstError.empty())
            m_stats.firstError = std::string("socket (churn): ") + std::strerror(errno);
        m_churnFree.push_back(slot);
        c.state = Connection::State::Done;
        return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.state = Connection::State::Connecting;
    ++m_churnTally.inFlight;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = c.slotKey;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    c.pollOut = true;
    if (connect(c.fd, reinterpret_cast<sockaddr *>(&m_addr), sizeof m_addr) != 0 && errno != EINPROGRESS) {
        --m_churnTally.inFlight;
        ++m_churnTally.failed;
        error(c, std::string("connect (churn): ") + std::strerror(errno));
    }
}

// After the 101: the requests, all at once; then wait for the replies or reset at once.
void Client::onChurnOpen(Connection &c)
{
    for (int i = 0; i < m_o.churnRequests; ++i)
        queueRequest(c);
    flush(c);
    if (c.fd >= 0 && c.plan == Connection::Plan::AbortBeforeReplies) {
        ++m_churnAborted;
        closeConnection(c, Connection::State::Done);
    }
}

void Client::onChurnReply(Connection &c)
{
    if (!c.pending.empty())
        return;
    ++m_churnCompleted;
    closeConnection(c, Connection::State::Done);
}

void Client::expireChurn(int64_t now)
{
    const int64_t limit = int64_t(m_o.churnTimeout * 1e9);
    for (Connection &c : m_churn) {
        if (c.fd < 0 || now - c.startedNs < limit)
            continue;
        if (c.state == Connection::State::Connecting || c.state == Connection::State::Handshaking) {
            --m_churnTally.inFlight;
            ++m_churnTally.failed;
            m_stats.handshakeFailures += c.state == Connection::State::Handshaking;
        }
        error(c, "short-lived connection not done within " + std::to_string(int(m_o.churnTimeout)) + " s (state "
                     + std::to_string(int(c.state)) + ", " + std::to_string(c.pending.size()) + " replies missing)");
    }
}

void Client::printTick(int64_t now)
{
    ++m_tick;
    std::printf("{\"event\":\"tick\",\"t\":%d,\"t_s\":%.3f,\"replies\":%" PRIu64 ",\"open\":%d,"
                "\"churn_opened\":%" PRIu64 ",\"churn_completed\":%" PRIu64 ",\"churn_aborted\":%" PRIu64
                ",\"churn_active\":%d,\"handshake_failures\":%" PRIu64 ",\"wrong_replies\":%" PRIu64
                ",\"errors\":%" PRIu64 "}\n",
                m_tick, double(now - m_start) / 1e9, m_stats.received - m_tickReceived, m_main.open, m_churnOpened,
                m_churnCompleted, m_churnAborted, churnActive(), m_stats.handshakeFailures, m_stats.wrongReplies,
                m_stats.errors);
    std::fflush(stdout);
    m_tickReceived = m_stats.received;
}

void Client::processFrames(Connection &c)
{
    while (c.state == Connection::State::Open || c.state == Connection::State::Closing) {
        const size_t avail = c.in.size() - c.inPos;
        if (avail < 2)
            break;
        const auto *p = reinterpret_cast<const unsigned char *>(c.in.data() + c.inPos);
        const bool fin = p[0] & 0x80;
        const int opcode = p[0] & 0x0F;
        if (p[0] & 0x70) {
            error(c, "frame with reserved bits set");
            return;
        }
        if (p[1] & 0x80) {
            error(c, "server frame is masked");
            return;
        }
        uint64_t len = p[1] & 0x7F;
        size_t h = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = uint64_t(p[2]) << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = len << 8 | p[2 + i];
            h = 10;
        }
        if (len > (64u << 20)) {
            error(c, "frame too large");
            return;
        }
        if (avail < h + len)
            break;
        const std::string_view payload(c.in.data() + c.inPos + h, size_t(len));
        c.inPos += h + size_t(len);
        switch (opcode) {
        case 0x0:
            if (!c.fragmented) {
                error(c, "continuation without a message");
                return;
            }
            c.fragment.append(payload);
            if (fin) {
                c.fragmented = false;
                const std::string message = std::move(c.fragment);
                c.fragment.clear();
                onText(c, message);
            }
            break;
        case 0x1:
            if (fin) {
                onText(c, payload);
            } else {
                c.fragmented = true;
                c.fragment.assign(payload);
            }
            break;
        case 0x2:
            error(c, "unexpected binary frame");
            return;
        case 0x8: {
            if (c.state == Connection::State::Closing) {
                closeConnection(c, Connection::State::Done);
                return;
            }
            int code = payload.size() >= 2 ? (uint8_t(payload[0]) << 8 | uint8_t(payload[1])) : 1005;
            ++tally(c).dropped;
            error(c, "server closed the connection: " + std::to_string(code) + " "
                         + std::string(payload.size() > 2 ? payload.substr(2) : std::string_view()));
            return;
        }
        case 0x9:
            queueFrame(c, 0xA, payload);
            break;
        case 0xA:
            break;
        default:
            error(c, "unknown opcode " + std::to_string(opcode));
            return;
        }
    }
}

void Client::processHttp(Connection &c)
{
    while (c.state == Connection::State::Open) {
        const std::string_view data(c.in.data() + c.inPos, c.in.size() - c.inPos);
        const size_t end = data.find("\r\n\r\n");
        if (end == std::string_view::npos)
            return;
        ResponseHead head;
        if (!parseHead(data.substr(0, end + 2), head)) {
            error(c, "malformed HTTP response");
            return;
        }
        const std::string_view cl = head.field("Content-Length");
        if (cl.empty()) {
            error(c, "response without Content-Length");
            return;
        }
        const size_t bodyLen = size_t(std::atol(std::string(cl).c_str()));
        if (data.size() < end + 4 + bodyLen)
            return;
        const std::string_view body = data.substr(end + 4, bodyLen);
        c.inPos += end + 4 + bodyLen;
        if (c.pending.empty()) {
            error(c, "response without a request");
            return;
        }
        if (m_o.mode == Mode::Upstream) {
            // Replies come in request order (HTTP/1.1): the oldest request's.
            const std::string expected = "[" + std::to_string(c.pending.front().id) + ",\"" + m_pad + "\"]";
            Reply r;
            if (head.status != 200 || !scanReply(body, r) || !r.error.empty() || r.result != expected) {
                wrongReply(c, "unexpected upstream reply (expected result " + expected + "): "
                               + std::to_string(head.status) + " " + std::string(body.substr(0, 200)));
                return;
            }
        } else if (head.status != 200 || body.find("\"ok\"") == std::string_view::npos) {
            error(c, "unexpected response " + std::to_string(head.status) + " " + std::string(body.substr(0, 100)));
            return;
        }
        const int64_t sent = c.pending.front().sentNs;
        c.pending.pop_front();
        record(sent, nowNs());
        if (iequals(head.field("Connection"), "close")) {
            ++tally(c).dropped;
            error(c, "server closed the keep-alive connection");
            return;
        }
        if (sending())
            queueRequest(c);
    }
}

void Client::flush(Connection &c)
{
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
        if (c.state == Connection::State::Open)
            ++tally(c).dropped;
        error(c, std::string("send: ") + std::strerror(errno));
        return;
    }
    if (c.outPos == c.out.size()) {
        c.out.clear();
        c.outPos = 0;
    } else if (c.outPos > 65536) {
        c.out.erase(0, c.outPos);
        c.outPos = 0;
    }
}

void Client::updatePoll(Connection &c, size_t index)
{
    if (c.fd < 0)
        return;
    const bool want = c.outPos < c.out.size() || c.state == Connection::State::Connecting;
    if (want == c.pollOut)
        return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = index;
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
    c.pollOut = want;
}

void Client::closeConnection(Connection &c, Connection::State to)
{
    if (c.state == Connection::State::Open)
        --tally(c).open;
    if (c.fd >= 0) {
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
        if (c.plan != Connection::Plan::Load) {
            // Short-lived connections end with a reset, as a crashing or impatient client would.
            const linger reset = {1, 0};
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
        close(c.fd);
        c.fd = -1;
        if (c.plan != Connection::Plan::Load)
            m_churnFree.push_back(size_t(c.slotKey - ChurnBase));
    }
    c.state = to;
}

void Client::onReadable(size_t index)
{
    Connection &c = connAt(index);
    bool eof = false;
    for (;;) {
        if (c.inPos > 0 && c.inPos == c.in.size()) {
            c.in.clear();
            c.inPos = 0;
        } else if (c.inPos > 65536) {
            c.in.erase(0, c.inPos);
            c.inPos = 0;
        }
        const size_t old = c.in.size();
        c.in.resize(old + 65536);
        const ssize_t n = recv(c.fd, &c.in[old], 65536, 0);
        c.in.resize(old + size_t(std::max<ssize_t>(n, 0)));
        if (n > 0) {
            if (n < 65536)
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
        if (c.state == Connection::State::Closing) {
            closeConnection(c, Connection::State::Done);
            return;
        }
        if (c.state == Connection::State::Open)
            ++tally(c).dropped;
        if (c.state == Connection::State::Handshaking || c.state == Connection::State::Connecting) {
            --tally(c).inFlight;
            ++tally(c).failed;
            m_stats.handshakeFailures += c.state == Connection::State::Handshaking;
        }
        error(c, std::string("recv: ") + std::strerror(errno));
        return;
    }
    if (c.state == Connection::State::Handshaking && !processHandshake(c)) {
        if (eof && c.state == Connection::State::Handshaking) {
            --tally(c).inFlight;
            ++tally(c).failed;
            ++m_stats.handshakeFailures;
            error(c, "connection closed during the handshake");
        }
        return;
    }
    if (c.state == Connection::State::Open || c.state == Connection::State::Closing) {
        if (m_o.mode == Mode::Http || m_o.mode == Mode::Upstream)
            processHttp(c);
        else
            processFrames(c);
    }
    if (eof && c.fd >= 0) {
        if (c.state == Connection::State::Closing) {
            closeConnection(c, Connection::State::Done);
        } else {
            ++tally(c).dropped;
            error(c, "server closed the connection");
        }
    }
}

void Client::onEvent(size_t index, uint32_t events)
{
    Connection &c = connAt(index);
    if (c.fd < 0)
        return;
    if (c.state == Connection::State::Connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            --tally(c).inFlight;
            ++tally(c).failed;
            error(c, std::string("connect: ") + std::strerror(err));
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        onConnected(c);
        if (c.plan == Connection::Plan::AbortMidHandshake) {
            // Half of the upgrade request, then a reset.
            c.out.resize(c.out.size() / 2);
            flush(c);
            if (c.fd >= 0) {
                --tally(c).inFlight;
                ++m_churnAborted;
                closeConnection(c, Connection::State::Done);
            }
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        onReadable(index);
    if (c.fd >= 0) {
        flush(c);
        if (c.fd >= 0)
            updatePoll(c, index);
    }
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (u < 0x20 || u >= 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

int Client::run()
{
    m_start = nowNs();
    const int64_t deadline = m_start + int64_t(m_o.timeout * 1e9);
    // Connect phase: all connections, at most `parallel` at a time, bounded
    // by 10 s + 2 ms per connection.
    const int64_t connectDeadline
        = std::min(deadline, m_start + int64_t(10e9) + int64_t(m_o.conns) * 2'000'000);
    std::vector<epoll_event> events(1024);
    auto poll = [&](int timeoutMs) {
        const int n = epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        for (int i = 0; i < n; ++i)
            onEvent(size_t(events[size_t(i)].data.u64), events[size_t(i)].events);
    };
    while (nowNs() < connectDeadline) {
        while (m_nextToConnect < m_conns.size() && m_main.inFlight < m_o.parallel)
            startConnect(m_nextToConnect++);
        if (m_nextToConnect == m_conns.size() && m_main.inFlight == 0)
            break;
        poll(10);
    }
    const int64_t connectEnd = nowNs();
    for (size_t i = 0; i < m_conns.size(); ++i) {
        Connection &c = m_conns[i];
        if (c.state == Connection::State::Connecting || c.state == Connection::State::Handshaking
            || c.state == Connection::State::Idle) {
            if (c.state != Connection::State::Idle)
                --m_main.inFlight;
            ++m_main.failed;
            ++m_stats.errors;
            if (m_stats.firstError.empty())
                m_stats.firstError = "connect/handshake not done within the connect phase";
            closeConnection(c, Connection::State::Done);
        }
    }
    const double connectSeconds = double(connectEnd - m_start) / 1e9;
    const int connected = m_main.open;

    if (m_o.mode == Mode::Idle) {
        std::printf("{\"event\":\"connected\",\"attempted\":%d,\"connected\":%d,\"connect_s\":%.3f}\n", m_o.conns,
                    connected, connectSeconds);
        std::fflush(stdout);
        const int64_t holdStart = nowNs();
        const int64_t holdEnd = std::min(deadline, holdStart + int64_t(m_o.hold * 1e9));
        while (nowNs() < holdEnd && !holdInterrupted)
            poll(50);
        const double heldSeconds = double(nowNs() - holdStart) / 1e9;
        const int held = m_main.open;
        std::printf("{\"mode\":\"idle\",\"label\":%s,\"attempted\":%d,\"connected\":%d,\"held\":%d,"
                    "\"failed\":%d,\"connect_s\":%.3f,\"hold_s\":%.1f,\"errors\":%" PRIu64
                    ",\"first_error\":%s}\n",
                    jsonString(m_o.label).c_str(), m_o.conns, connected, held, m_main.failed, connectSeconds, heldSeconds,
                    m_stats.errors, jsonString(m_stats.firstError).c_str());
        std::fflush(stdout);
        for (Connection &c : m_conns)
            closeConnection(c, Connection::State::Done);
        return held == m_o.conns && m_stats.errors == 0 ? 0 : 1;
    }

    // Load phase.
    m_loadRunning = true;
    const int64_t loadStart = nowNs();
    m_windowBegin = loadStart + int64_t(m_o.warmup * 1e9);
    m_windowEnd = std::min(deadline, m_windowBegin + int64_t(m_o.duration * 1e9));
    for (size_t i = 0; i < m_conns.size(); ++i) {
        Connection &c = m_conns[i];
        if (c.state != Connection::State::Open)
            continue;
        for (int d = 0; d < m_o.depth && sending(); ++d)
            queueRequest(c);
        flush(c);
        updatePoll(c, i);
    }
    const bool soak = m_o.mode == Mode::Soak;
    uint64_t churnStarted = 0;
    int64_t nextTick = loadStart + 1'000'000'000;
    m_tickReceived = m_stats.received;
    while (nowNs() < m_windowEnd) {
        if (m_o.messages && m_stats.received >= m_o.messages)
            break;
        if (m_main.open == 0)
            break;
        if (soak) {
            // The churn keeps its rate whatever the server's pace; a backlog
            // of more than a second's worth is not made up for.
            const int64_t now = nowNs();
            const auto due = uint64_t(double(now - loadStart) / 1e9 * m_o.churnRate);
            if (due > churnStarted + uint64_t(m_o.churnRate) + 1)
                churnStarted = due - uint64_t(m_o.churnRate) - 1;
            for (; churnStarted < due; ++churnStarted)
                startChurn();
            if (now >= nextTick) {
                expireChurn(now);
                printTick(now);
                nextTick += 1'000'000'000;
            }
        }
        poll(soak ? 5 : 20);
    }
    const int64_t loadEnd = nowNs();
    m_stopping = true;
    // Short-lived connections under way finish (bounded); those that do not are errors.
    const int64_t churnEnd = std::min(deadline, nowNs() + int64_t(3e9));
    while (soak && churnActive() > 0 && nowNs() < churnEnd)
        poll(5);
    if (soak && churnActive() > 0) {
        m_stats.errors += uint64_t(churnActive());
        if (m_stats.firstError.empty())
            m_stats.firstError = std::to_string(churnActive()) + " short-lived connections unfinished 3 s after the load ended";
        for (Connection &c : m_churn)
            closeConnection(c, Connection::State::Done);
    }
    // Drain the outstanding replies (bounded), then close politely.
    const int64_t drainEnd = std::min(deadline, nowNs() + int64_t(3e9));
    auto outstanding = [&] {
        size_t n = 0;
        for (const Connection &c : m_conns)
            if (c.state == Connection::State::Open)
                n += c.pending.size();
        return n;
    };
    while (nowNs() < drainEnd && outstanding() > 0)
        poll(20);
    const size_t lost = outstanding();
    if (lost > 0) {
        m_stats.errors += lost;
        if (m_stats.firstError.empty())
            m_stats.firstError = std::to_string(lost) + " requests unanswered 3 s after the load ended";
    }
    for (size_t i = 0; i < m_conns.size(); ++i) {
        Connection &c = m_conns[i];
        if (c.state != Connection::State::Open)
            continue;
        if (m_o.mode != Mode::Http && m_o.mode != Mode::Upstream) {
            const char payload[2] = {char(0x03), char(0xE8)}; // 1000
            queueFrame(c, 0x8, std::string_view(payload, 2));
            flush(c);
            if (c.fd >= 0) {
                --m_main.open;
                c.state = Connection::State::Closing;
                updatePoll(c, i);
            }
        } else {
            closeConnection(c, Connection::State::Done);
        }
    }
    const int64_t closeEnd = std::min(deadline, nowNs() + int64_t(1e9));
    auto closing = [&] {
        for (const Connection &c : m_conns)
            if (c.state == Connection::State::Closing)
                return true;
        return false;
    };
    while (nowNs() < closeEnd && closing())
        poll(20);
    for (Connection &c : m_conns)
        closeConnection(c, Connection::State::Done);

    // Result.
    const double window = m_o.messages && loadEnd < m_windowEnd
        ? double(std::max<int64_t>(loadEnd - m_windowBegin, 1)) / 1e9
        : double(m_windowEnd - m_windowBegin) / 1e9;
    std::vector<uint32_t> &lat = m_stats.latencyNs;
    auto pct = [&](double q) -> double {
        if (lat.empty())
            return 0;
        const size_t k = std::min(lat.size() - 1, size_t(q * double(lat.size())));
        std::nth_element(lat.begin(), lat.begin() + long(k), lat.end());
        return lat[k] / 1000.0;
    };
    const double p50 = pct(0.50), p90 = pct(0.90), p99 = pct(0.99);
    const double maxUs = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()) / 1000.0;
    std::string soakFields = "\"wrong_replies\":" + std::to_string(m_stats.wrongReplies)
        + ",\"handshake_failures\":" + std::to_string(m_stats.handshakeFailures) + ",";
    if (soak) {
        char buffer[512];
        std::snprintf(buffer, sizeof buffer,
                      "\"churn_rate\":%.1f,\"churn_requests\":%d,\"churn_abort_pct\":%d,\"churn_opened\":%" PRIu64
                      ",\"churn_completed\":%" PRIu64 ",\"churn_aborted\":%" PRIu64 ",\"churn_failed\":%d,"
                      "\"churn_dropped\":%d,\"churn_per_s\":%.1f,",
                      m_o.churnRate, m_o.churnRequests, m_o.churnAbortPct, m_churnOpened, m_churnCompleted,
                      m_churnAborted, m_churnTally.failed, m_churnTally.dropped,
                      double(m_churnOpened) / std::max(1e-9, double(loadEnd - loadStart) / 1e9));
        soakFields += buffer;
    }
    std::printf("{\"mode\":\"%s\",\"label\":%s,\"conns\":%d,\"depth\":%d,\"connected\":%d,\"connect_s\":%.3f,"
                "\"window_s\":%.3f,\"messages\":%" PRIu64 ",\"msgs_per_s\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
                "\"p99_us\":%.1f,\"max_us\":%.1f,\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                ",\"out_of_order\":%" PRIu64 ",\"dropped\":%d,%s\"errors\":%" PRIu64 ",\"first_error\":%s}\n",
                m_o.mode == Mode::Http ? "http" : m_o.mode == Mode::Upstream ? "upstream" : soak ? "soak" : "ws", jsonString(m_o.label).c_str(), m_o.conns,
                m_o.depth, connected, connectSeconds, window, m_stats.windowCount,
                double(m_stats.windowCount) / window, p50, p90, p99, maxUs, m_stats.sent, m_stats.received,
                m_stats.outOfOrder, m_main.dropped, soakFields.c_str(), m_stats.errors,
                jsonString(m_stats.firstError).c_str());
    std::fflush(stdout);
    return m_stats.errors == 0 && connected == m_o.conns ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    const Options options = parseOptions(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if (options.mode == Mode::Idle) {
        struct sigaction stop = {};
        stop.sa_handler = [](int) { holdInterrupted = 1; };
        sigaction(SIGTERM, &stop, nullptr);
        sigaction(SIGINT, &stop, nullptr);
    }
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rngState ^= uint64_t(nowNs()) * 0x9E3779B97F4A7C15ull ^ uint64_t(getpid());
    // Self-check of the handshake arithmetic (RFC 6455 section 1.3 example).
    if (acceptFor("dGhlIHNhbXBsZSBub25jZQ==") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
        std::fprintf(stderr, "sbload: SHA-1 self-check failed\n");
        return 2;
    }
    Client client(options);
    return client.run();
}
