package org.efcp.cuda;

/**
 * What this JVM holds open on one device at a moment ({@link GpuContext#usage()}): the resources handed out through
 * this layer and not yet closed. A long-lived process (a Spark executor running fit after fit) should come back to
 * the same usage after each fit; a growing figure is a leak.
 *
 * @param deviceBytes bytes of open {@link DeviceBuffer}s, counted by their pooled size class (the pool's cache,
 *     {@link GpuContext#cachedBytes()}, is not in use and not counted)
 * @param pinnedBytes bytes of open {@link PinnedBuffer}s
 * @param streams open {@link GpuStream}s
 * @param events open {@link GpuEvent}s
 */
public record GpuUsage(long deviceBytes, long pinnedBytes, int streams, int events) {
}
