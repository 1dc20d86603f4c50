/**
 * transport: moving packets. The process-wide scheduler (pacer), UDP port pairs (per session, or
 * the server's one shared pair and its demux by source), and the egress
 * paths (UDP or interleaved in the RTSP TCP connection) that each outgoing stream writes to.
 */
export * from './scheduler.ts';
export * from './udp-pair.ts';
export * from './egress.ts';
export * from './send-batch.ts';
export * from './udp-batch.ts';
export * from './udp-demux.ts';
export * from './datagram-drain.ts';
export * from './stream-drain.ts';
export * from './shared-udp.ts';
export * from './native-sender.ts';
export * from './precise-timer.ts';
export * from './impairment-stage.ts';
export * from './impaired-egress.ts';
export * from './impairment-files.ts';
export * from './netem-relay.ts';
export * from './multicast-egress.ts';
export * from './udp-sender.ts';
export * from './kernel-drops.ts';
export * from './byte-stream.ts';
