/**
 * G.711 over RTP (RFC 3551 §4.5.14, PCMU and PCMA): the packetizer that cuts sample bytes into
 * packets of N ms with their timestamp offsets, the pass-through depacketizer, and the static
 * payload types and rtpmap.
 */
export { packetizeG711, G711_DEFAULT_SAMPLES_PER_PACKET, type G711PacketizeOptions, type G711Payload } from './packetizer.ts';
export { G711Depacketizer, type G711DepacketizerStats } from './depacketizer.ts';
export { g711Rtpmap, g711PayloadType, PCMU_PAYLOAD_TYPE, PCMA_PAYLOAD_TYPE, G711_CLOCK_RATE, type G711Law } from './sdp.ts';
