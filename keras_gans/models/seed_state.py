"""Saving every `SeedGenerator` state with the weights, so a resumed run draws the same noise."""


class SeedStateMixin:
    """Adds the model's `SeedGenerator` states to what `save_weights`/`.keras` store.

    Keras saves variables by layer; the noise generators' states live on the model
    itself, so without this a restored model would draw new noise.
    """

    def _seed_states(self):
        return [v for v in self.non_trainable_variables if v.path.endswith("seed_generator_state")]

    def save_own_variables(self, store):
        """Also saves every `SeedGenerator` state, so a resumed run draws the same noise."""
        super().save_own_variables(store)
        for i, state in enumerate(self._seed_states()):
            store[f"seed_state_{i}"] = state

    def load_own_variables(self, store):
        seed_keys = {key for key in store.keys() if key.startswith("seed_state_")}
        super().load_own_variables({k: store[k] for k in store.keys() if k not in seed_keys})
        states = self._seed_states()
        if len(seed_keys) == len(states):
            for i, state in enumerate(states):
                state.assign(store[f"seed_state_{i}"])
