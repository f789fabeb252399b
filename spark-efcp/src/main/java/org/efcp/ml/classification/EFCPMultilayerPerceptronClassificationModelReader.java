package org.efcp.ml.classification;

import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.util.MLReader;

/** Loads what {@link EFCPMultilayerPerceptronClassificationModelWriter} saved; see {@link SavedModel}. */
final class EFCPMultilayerPerceptronClassificationModelReader
    extends MLReader<EFCPMultilayerPerceptronClassificationModel> {
  @Override
  public EFCPMultilayerPerceptronClassificationModel load(String path) {
    SavedModel saved = SavedModel.load(path, sparkSession(), EFCPMultilayerPerceptronClassificationModel.class,
        EFCPMultilayerPerceptronClassificationModelWriter.SCHEMA);
    List<Integer> layerList = saved.getList("layers");
    int[] layers = layerList.stream().mapToInt(Integer::intValue).toArray();
    String activation = saved.get("activation");
    Vector weights = saved.get("weights");
    EFCPMultilayerPerceptronClassificationModel model =
        new EFCPMultilayerPerceptronClassificationModel(saved.uid(), layers, activation, weights.toArray());
    saved.applyParams(model);
    return model;
  }
}
