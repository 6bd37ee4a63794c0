// The public surface of @fos/proxy: one fos instance across machines. A machine's proxy process
// (startProxy) carries its kernel's sends to other machines over authenticated links; the TLS
// transport (cluster key, listen, connect) and an in-memory link for one process are two
// implementations of the same ByteLink.
export { startProxy } from './proxy.js';
export {
  proxyAsksInFlightMax,
  proxyAskTimeoutMs,
  proxyBufferedBytesMax,
  proxyConnectionsMax,
  proxyDeliveriesInFlightMax,
  proxyHelloTimeoutMs,
  type Proxy,
  type ProxyOptions,
  type ProxyPeer,
  type ProxyQuestionHandler,
  type ProxyStats,
} from './proxy-api.js';
export { linkPair, type ByteLink, type ByteLinkEvents, type LinkPairOptions } from './link.js';
export { simLinkPair, type SimLinkOptions } from './sim-link.js';
export {
  SimTransport,
  tlsTransport,
  type ProxyListener,
  type ProxyTransport,
  type TlsTransportOptions,
} from './transport.js';
export {
  decodeFramePayload,
  encodeFrame,
  FrameReader,
  frameHeaderBytesMax,
  framePayloadBytesMax,
  machineNameSchema,
  proxyProtocolVersion,
  type AnswerFrame,
  type AskFrame,
  type DeliverFrame,
  type Frame,
  type HelloFrame,
  type RefuseFrame,
  type ReplyFrame,
  type SkipFrame,
} from './frames.js';
export {
  clusterKeyBytes,
  connectTls,
  listenTls,
  newClusterKeyText,
  parseAddress,
  parseClusterKey,
  readClusterKeyFile,
  tlsHandshakeTimeoutMs,
  writeClusterKeyFile,
  type ClusterKey,
  type ListenTlsOptions,
  type TlsListener,
} from './tls.js';
