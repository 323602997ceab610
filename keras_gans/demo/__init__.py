"""Playing with a model in the browser: the Gradio demo (`keras-gans demo`) and Hub Spaces.

`actions` holds what each button does (plain functions, tested on every backend),
`app` the Gradio page, `space` a Space folder that serves a model from the Hub.
"""
