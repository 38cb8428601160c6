"""The same dbt project on a second engine: Apache Spark (docs/spark.md)."""
