// Switchboard driven by two widely used JSON-RPC WebSocket clients from npm,
// used as their documentation shows, unchanged: `rpc-websockets` (its default
// Client) and `@open-rpc/client-js` (RequestManager + WebSocketTransport +
// Client). Neither offers a WebSocket subprotocol, so they only work with the
// config key "defaultSubprotocol" (PRODUCT.md section 3, "No subprotocol
// offered"); without it the handshake is refused with 400.
//
// Run by ctest (tests/clients/CMakeLists.txt) after `npm ci` of the pinned
// package-lock.json, with SWITCHBOARD_BIN naming the server binary:
//   SWITCHBOARD_BIN=build/src/app/switchboard node --test clients.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { Client as RpcWebSocketsClient } from 'rpc-websockets';
import { Client as OpenRpcClient, JSONRPCError, RequestManager, WebSocketTransport } from '@open-rpc/client-js';

const BIN = process.env.SWITCHBOARD_BIN;
const STEP_MS = 10000;

// A promise that fails with `what` when `promise` does not settle in time.
function within(promise, what, ms = STEP_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// `switchboard --headless --port 0 --config FILE`, its port read from the
// `listening http://127.0.0.1:PORT` line.
async function startSwitchboard(config) {
    assert.ok(BIN, 'SWITCHBOARD_BIN must name the switchboard binary');
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-clients-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const proc = spawn(BIN, ['--headless', '--port', '0', '--config', configFile],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    let port;
    try {
        port = await within(new Promise((resolve, reject) => {
            createInterface({ input: proc.stdout }).on('line', (line) => {
                const match = /^listening http:\/\/127\.0\.0\.1:(\d+)$/.exec(line.trim());
                if (match)
                    resolve(Number(match[1]));
            });
            exited.then(({ code }) => reject(new Error(`switchboard exited early (${code}): ${stderr}`)));
        }), 'the listening line');
    } catch (error) {
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw error;
    }
    return {
        port,
        wsUrl: `ws://127.0.0.1:${port}/rpc`,
        async connections() {
            const response = await fetch(`http://127.0.0.1:${port}/api/connections`);
            assert.equal(response.status, 200);
            return response.json();
        },
        // Until the server's list is empty: it saw the client's close.
        async waitForNoConnections() {
            const deadline = Date.now() + STEP_MS;
            let list;
            while ((list = await this.connections()).length > 0 && Date.now() < deadline)
                await new Promise((resolve) => setTimeout(resolve, 50));
            assert.deepEqual(list, [], 'the server still lists the closed connection');
        },
        async stop() {
            if (proc.exitCode === null && proc.signalCode === null)
                proc.kill('SIGTERM');
            const { code } = await within(exited, 'switchboard to stop on SIGTERM');
            rmSync(dir, { recursive: true, force: true });
            assert.equal(code, 0, `switchboard exit code on SIGTERM; stderr: ${stderr}`);
        },
    };
}

// The one connection the server lists, checked to be the defaulted jsonrpc one.
async function assertOneDefaultedJsonRpcConnection(server) {
    const list = await server.connections();
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0].subprotocol, 'jsonrpc');
    assert.equal(list[0].subprotocolDefaulted, true);
    assert.equal(list[0].path, '/rpc');
}

// ---------------------------------------------------------------- rpc-websockets

function connectRpcWebSockets(url) {
    // No reconnection: a refused or closed connection must stay that way here.
    const client = new RpcWebSocketsClient(url, { reconnect: false });
    const opened = new Promise((resolve, reject) => {
        client.once('open', () => resolve(client));
        // The client passes on the socket's ErrorEvent.
        client.once('error', (event) => reject(event.error ?? new Error(event.message)));
    });
    return { client, opened };
}

// Closes as the client does (code 1000) and checks the close handshake completed.
async function closeRpcWebSockets(client) {
    const socket = client.socket;
    const socketClosed = new Promise((resolve) => socket.addEventListener('close', resolve));
    const clientClosed = new Promise((resolve) => client.once('close', (code) => resolve(code)));
    client.close();
    const event = await within(socketClosed, 'rpc-websockets close');
    assert.equal(event.code, 1000);
    assert.equal(event.wasClean, true, 'close frames sent and received');
    assert.equal(await within(clientClosed, 'rpc-websockets close event'), 1000);
}

// ---------------------------------------------------------------- @open-rpc/client-js

// The documented set-up; the transport's socket gets an error listener so a
// refused handshake is reported instead of thrown.
function connectOpenRpc(url) {
    const transport = new WebSocketTransport(url);
    const failed = new Promise((_, reject) => {
        transport.connection.addEventListener('error', (event) => reject(event.error ?? new Error(event.message)));
    });
    const requestManager = new RequestManager([transport]);
    const client = new OpenRpcClient(requestManager);
    const opened = Promise.race([requestManager.connectPromise, failed]).then(() => client);
    return { client, transport, opened };
}

async function closeOpenRpc(client, transport) {
    const closed = new Promise((resolve) => transport.connection.addEventListener('close', resolve));
    client.close();
    const event = await within(closed, '@open-rpc/client-js close');
    // The client sends a close frame without a status code; the server's
    // answering close frame may carry none (1005) or 1000 (Qt's answer).
    assert.ok([1000, 1005].includes(event.code), `close code ${event.code}`);
    assert.equal(event.wasClean, true, 'close frames sent and received');
}

// ---------------------------------------------------------------- with "defaultSubprotocol": "jsonrpc"

describe('with "defaultSubprotocol": "jsonrpc"', () => {
    let server;
    before(async () => { server = await startSwitchboard({ defaultSubprotocol: 'jsonrpc' }); });
    after(async () => { if (server) await server.stop(); });

    test('rpc-websockets Client: calls, errors, a published event, a clean close', async () => {
        const { client, opened } = connectRpcWebSockets(server.wsUrl);
        await within(opened, 'rpc-websockets to connect');
        await assertOneDefaultedJsonRpcConnection(server);

        const object = { text: 'hi', n: 3, nested: { list: [1, 'two', null, true] } };
        assert.deepEqual(await within(client.call('echo', object), 'echo object'), object);
        const array = [1, 'two', { three: 3 }, [4], null, false];
        assert.deepEqual(await within(client.call('echo', array), 'echo array'), array);
        assert.equal(await within(client.call('sum', [1, 2, 3.5]), 'sum'), 6.5);

        await within(assert.rejects(client.call('no.such.method', { a: 1 }), (error) => {
            assert.equal(error.code, -32601);
            assert.deepEqual(error.data, { reason: 'unknown' });
            return true;
        }), 'unknown method');
        await within(assert.rejects(client.call('sum', ['one']), (error) => {
            assert.equal(error.code, -32602);
            return true;
        }), 'sum with a string');

        // rpc-websockets emits a server notification as an event named by its method.
        const event = new Promise((resolve) => client.once('event', resolve));
        assert.equal(await within(client.call('subscribe', { topic: 'news' }), 'subscribe'), true);
        const data = { headline: 'from rpc-websockets', items: [1, 2] };
        assert.equal(await within(client.call('publish', { topic: 'news', data }), 'publish'), 1);
        assert.deepEqual(await within(event, 'the event notification'), { topic: 'news', data });

        await closeRpcWebSockets(client);
        await server.waitForNoConnections();
    });

    test('@open-rpc/client-js: calls, errors, a published event, a clean close', async () => {
        const { client, transport, opened } = connectOpenRpc(server.wsUrl);
        await within(opened, '@open-rpc/client-js to connect');
        await assertOneDefaultedJsonRpcConnection(server);

        const object = { text: 'hi', n: 3, nested: { list: [1, 'two', null, true] } };
        assert.deepEqual(await within(client.request({ method: 'echo', params: object }), 'echo object'), object);
        const array = [1, 'two', { three: 3 }, [4], null, false];
        assert.deepEqual(await within(client.request({ method: 'echo', params: array }), 'echo array'), array);
        assert.equal(await within(client.request({ method: 'sum', params: [1, 2, 3.5] }), 'sum'), 6.5);

        await within(assert.rejects(client.request({ method: 'no.such.method', params: { a: 1 } }), (error) => {
            assert.ok(error instanceof JSONRPCError, String(error));
            assert.equal(error.code, -32601);
            assert.deepEqual(error.data, { reason: 'unknown' });
            return true;
        }), 'unknown method');
        await within(assert.rejects(client.request({ method: 'sum', params: ['one'] }), (error) => {
            assert.equal(error.code, -32602);
            return true;
        }), 'sum with a string');

        const notification = new Promise((resolve) => client.onNotification(resolve));
        assert.equal(await within(client.request({ method: 'subscribe', params: { topic: 'news' } }), 'subscribe'), true);
        const data = { headline: 'from @open-rpc/client-js', items: [3] };
        assert.equal(await within(client.request({ method: 'publish', params: { topic: 'news', data } }), 'publish'), 1);
        assert.deepEqual(await within(notification, 'the event notification'),
                         { jsonrpc: '2.0', method: 'event', params: { topic: 'news', data } });

        await closeOpenRpc(client, transport);
        await server.waitForNoConnections();
    });

    test('one client publishes, both clients receive the event', async () => {
        const rws = connectRpcWebSockets(server.wsUrl);
        const orpc = connectOpenRpc(server.wsUrl);
        await within(Promise.all([rws.opened, orpc.opened]), 'both clients to connect');
        const list = await server.connections();
        assert.equal(list.length, 2);
        for (const entry of list)
            assert.deepEqual([entry.subprotocol, entry.subprotocolDefaulted], ['jsonrpc', true]);

        const viaRws = new Promise((resolve) => rws.client.once('event', resolve));
        const viaOrpc = new Promise((resolve) => orpc.client.onNotification(resolve));
        assert.equal(await rws.client.call('subscribe', { topic: 'mixed' }), true);
        assert.equal(await orpc.client.request({ method: 'subscribe', params: { topic: 'mixed' } }), true);
        const data = ['both', 2];
        assert.equal(await within(orpc.client.request({ method: 'publish', params: { topic: 'mixed', data } }),
                                  'publish'), 2);
        assert.deepEqual(await within(viaRws, 'rpc-websockets event'), { topic: 'mixed', data });
        assert.deepEqual((await within(viaOrpc, '@open-rpc/client-js event')).params, { topic: 'mixed', data });

        await closeRpcWebSockets(rws.client);
        await closeOpenRpc(orpc.client, orpc.transport);
        await server.waitForNoConnections();
    });
});

// ---------------------------------------------------------------- default config

describe('without "defaultSubprotocol" (the default)', () => {
    let server;
    before(async () => { server = await startSwitchboard({}); });
    after(async () => { if (server) await server.stop(); });

    test('rpc-websockets Client is refused with 400', async () => {
        const { client, opened } = connectRpcWebSockets(server.wsUrl);
        let open = false;
        client.on('open', () => { open = true; });
        await within(assert.rejects(opened, /Unexpected server response: 400$/), 'the refusal');
        assert.equal(open, false);
        assert.deepEqual(await server.connections(), []);
    });

    test('@open-rpc/client-js is refused with 400', async () => {
        const { opened } = connectOpenRpc(server.wsUrl);
        await within(assert.rejects(opened, /Unexpected server response: 400$/), 'the refusal');
        assert.deepEqual(await server.connections(), []);
    });
});
