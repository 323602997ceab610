"""`push_to_hub` and `from_pretrained` as model methods, through the model-free Hub layer."""

from keras_gans import hub


class HubMixin:
    """Hub methods of every keras-gans model (`BaseGAN` mixes this in)."""

    def push_to_hub(self, repo_id, **kwargs):
        """Uploads this model, a sample grid and a model card to the Hub in one commit.

        Args:
            repo_id: `"owner/name"` or `"hf://owner/name"`.
            **kwargs: `commit_message`, `private`, `token`, `include_optimizer`,
                `dataset`, `training_info`, `metrics`, ...; see
                `keras_gans.hub.push_to_hub`.

        Returns:
            The `huggingface_hub.CommitInfo` of the commit.

        Example:

        ```python
        gan.push_to_hub("me/dcgan-mnist", commit_message="50 epochs", dataset="mnist")
        ```
        """
        return hub.push_to_hub(self, repo_id, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        """Loads a model pushed with `push_to_hub`; it must be this class or a subclass.

        Args:
            name_or_path: `"hf://owner/name"`, `"owner/name"` or a local directory.
            **kwargs: `revision`, `token`, `cache_dir`, `force_download`,
                `compile`; see `keras_gans.hub.from_pretrained`.

        Example:

        ```python
        gan = keras_gans.DCGAN.from_pretrained("me/dcgan-mnist", revision="3f2a...")
        ```
        """
        return hub.from_pretrained(name_or_path, expected_class=cls, **kwargs)
