package org.efcp.ml.cluster;

import java.util.List;
import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingListener;

/** A training listener that SIGKILLs the cluster's first executor JVM right after step {@code step}. */
final class ExecutorKiller implements TrainingListener {
  private final LocalStandaloneCluster cluster;
  private final long step;
  private volatile long killedPid = -1;

  ExecutorKiller(LocalStandaloneCluster cluster, long step) {
    this.cluster = cluster;
    this.step = step;
  }

  @Override
  public void onStep(StepRecord record) {
    if (record.step() == step) {
      List<Long> pids = cluster.executorPids();
      killedPid = pids.get(0);
      cluster.killExecutor(killedPid);
    }
  }

  /** The pid it killed, or -1. */
  long killedPid() {
    return killedPid;
  }
}
