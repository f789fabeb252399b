package org.rapaio.jupyter.kernel.channels;

/**
 * Replaces rapaio-jupyter-kernel 3.0.1's {@code LoopThread} in the kernel JVM: this module's classes come ahead of the
 * kernel jar on its classpath (src/main/jupyter/jvm.args), and the class has the same name and members, so the
 * kernel's shell, control and heartbeat channels link to it unchanged. It mends two start-up races of 3.0.1 that
 * leave a kernel without a channel thread, so that it never answers (about one start in three on two cores):
 * <ul>
 *   <li>3.0.1's {@code start()} sets {@code running} after {@code Thread.start()}, so a thread scheduled at once
 *       reads {@code false} and ends before its first poll; here {@code running} is set first.
 *   <li>The channels poll before the kernel has installed its message handlers, and a request that arrives then
 *       (a client that connects at once) throws from the loop body and ended the thread; here the failure is
 *       reported as an uncaught exception would be and the loop goes on, so the client's next request is answered.
 * </ul>
 */
public final class LoopThread extends Thread {

  private volatile boolean running;
  private final long sleepMillis;
  private final Runnable loopBody;

  /**
   * @param name the thread's name
   * @param sleepMillis pause between two runs of the body, in milliseconds
   * @param loopBody one poll of the channel
   */
  public LoopThread(String name, long sleepMillis, Runnable loopBody) {
    super(name);
    this.sleepMillis = sleepMillis;
    this.loopBody = loopBody;
  }

  @Override
  public void run() {
    while (running) {
      try {
        loopBody.run();
      } catch (RuntimeException e) {
        getUncaughtExceptionHandler().uncaughtException(this, e);
      }
      try {
        Thread.sleep(sleepMillis);
      } catch (InterruptedException e) {
        running = false;
      }
    }
  }

  @Override
  public synchronized void start() {
    running = true;
    super.start();
  }

  /** Ends the loop after the body's current run. */
  public void shutdown() {
    running = false;
  }
}
