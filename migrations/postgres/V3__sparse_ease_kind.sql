-- Sparse EASE^R (`sparse-ease`) is a model kind.
ALTER TABLE models DROP CONSTRAINT models_kind_check;
ALTER TABLE models ADD CONSTRAINT models_kind_check
    CHECK (kind IN ('item-knn', 'svd', 'svd++', 'als', 'ease', 'sparse-ease'));
