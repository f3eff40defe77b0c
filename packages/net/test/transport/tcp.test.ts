/** TCP, the default transport, against the compliance suite on 127.0.0.1. */
import { tcpTransport } from '../../src/transport/tcp.js';
import { transportCompliance } from './compliance.js';

transportCompliance('tcp', () => ({
  server: tcpTransport,
  client: tcpTransport,
  listenAt: { host: '127.0.0.1', port: 0 },
}));
