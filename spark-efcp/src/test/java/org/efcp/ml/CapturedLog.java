package org.efcp.ml;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/**
 * Captures the formatted messages one log4j2 logger emits at INFO or above while attached (the test log
 * configuration keeps org.efcp at INFO).
 */
public final class CapturedLog extends AbstractAppender implements AutoCloseable {
  private final Logger logger;
  private final List<String> messages = Collections.synchronizedList(new ArrayList<>());

  private CapturedLog(Logger logger) {
    super("captured-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY);
    this.logger = logger;
  }

  public static CapturedLog of(Class<?> source) {
    CapturedLog log = new CapturedLog((Logger) LogManager.getLogger(source));
    log.start();
    log.logger.addAppender(log);
    return log;
  }

  @Override
  public void append(LogEvent event) {
    if (event.getLevel().isMoreSpecificThan(Level.INFO)) {
      messages.add(event.getMessage().getFormattedMessage());
    }
  }

  /** The messages so far, in order. */
  public List<String> messages() {
    synchronized (messages) {
      return List.copyOf(messages);
    }
  }

  @Override
  public void close() {
    logger.removeAppender(this);
    stop();
  }
}
