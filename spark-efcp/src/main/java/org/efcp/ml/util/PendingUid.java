package org.efcp.ml.util;

/**
 * Hands a uid to a Java subclass of a Spark ML stage while the Scala superclass constructor runs.
 *
 * <p>Spark's param traits (featuresCol, labelCol, …) build their {@code Param}s inside the superclass
 * constructor and read {@code uid()} then, before any Java field is assigned. A constructor therefore calls
 * {@code this(PendingUid.stash(uid), …)}: the argument is evaluated before {@code super()}, and {@code uid()}
 * answers {@link #current()} until the field is set; the constructor then calls {@link #clear()}.
 */
public final class PendingUid {
  private static final ThreadLocal<String> PENDING = new ThreadLocal<>();

  private PendingUid() {}

  /** Remembers {@code uid} for the constructor about to run on this thread and returns it. */
  public static String stash(String uid) {
    if (uid == null || uid.isEmpty()) {
      throw new IllegalArgumentException("uid: must not be empty");
    }
    PENDING.set(uid);
    return uid;
  }

  /** The uid stashed on this thread (null outside a constructor). */
  public static String current() {
    return PENDING.get();
  }

  /** Forgets the stashed uid once the constructor has stored it. */
  public static void clear() {
    PENDING.remove();
  }
}
