"""A clade family: its genes, the data form it needs, and how a genotype becomes a model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..genes import ChoiceGene, Gene, IntGene, LearningRateGene, RegularizerGene, Segment

if TYPE_CHECKING:
    import keras

    from ..config import CladeConfig
    from ..data import Dataset

# Training genes every family shares (the original's optimizer / lr / batch / epochs).
TRAINING_GENES: tuple[Gene, ...] = (
    ChoiceGene("optimizer", "optimizers"),
    LearningRateGene(),
    IntGene("batch_size", "batch_size", log=True),
    IntGene("epochs", "epochs"),
)

# The dense stack: GAFC1's whole body, and the head of the CNN and RNN families.
DENSE_SEGMENT = Segment(
    "layers",
    "nb_layers",
    (
        IntGene("units", "nb_units", log=True),
        ChoiceGene("activation", "activations"),
        RegularizerGene(),
    ),
)


class Family:
    """Subclasses set ``name``, ``form``, ``scalar_genes``, ``segments`` and ``build_body``
    (and a one-line ``description``: the clade class's docstring and the CLI's help)."""

    name: str = ""
    description: str = ""
    form: str = "flat"
    scalar_genes: tuple[Gene, ...] = TRAINING_GENES
    segments: tuple[Segment, ...] = (DENSE_SEGMENT,)

    def segment(self, name: str) -> Segment:
        for seg in self.segments:
            if seg.name == name:
                return seg
        raise KeyError(name)

    def form_for(self, data_name: str) -> str:
        """The data form this family needs for a data set (a family may vary it by set)."""
        return self.form

    def count_bounds(self, segment: Segment, cfg: CladeConfig) -> tuple[int, int]:
        """Allowed block counts; a family may widen them (e.g. a head with 0 layers)."""
        return segment.count_range(cfg)

    def repair(self, genotype: dict[str, Any], dataset: Dataset) -> tuple[dict[str, Any], str]:
        """Make a genotype buildable for the data's input shape; return it and what changed."""
        return genotype, ""

    def build(self, genotype: dict[str, Any], dataset: Dataset, cfg: CladeConfig) -> keras.Model:
        import keras

        from ..modelbuild import compile_model, dense_stack

        inputs = keras.Input(shape=dataset.input_shape)
        x = normalized(inputs, dataset) if cfg.normalize and dataset.form != "tokens" else inputs
        x = self.build_body(x, genotype, dataset)
        x = dense_stack(x, genotype["layers"])
        outputs = keras.layers.Dense(
            dataset.n_classes, activation=cfg.final_activation, name="output"
        )(x)
        model = keras.Model(inputs, outputs, name=self.name.lower())
        return compile_model(model, genotype, cfg.final_activation)

    def build_body(self, inputs: Any, genotype: dict[str, Any], dataset: Dataset) -> Any:
        raise NotImplementedError


def normalized(inputs: Any, dataset: Dataset) -> Any:
    """Standardise numeric inputs with the training split's per-feature mean and variance
    (a Keras layer, so a saved or exported model carries its preprocessing)."""
    import keras

    mean, variance = dataset.feature_stats()
    return keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalize")(
        inputs
    )
