-- CreateIndex
CREATE INDEX "MetricPoint_seriesId_step_value_idx" ON "MetricPoint"("seriesId", "step", "value");
