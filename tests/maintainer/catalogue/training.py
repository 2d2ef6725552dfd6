"""Plausible wrong training steps (chapter 08), and correct alternatives."""


def _no_update(model, optimizer, loss_fn, x, y):
    out = model.forward(x)
    loss, dout = loss_fn(out, y)
    model.backward(dout)
    return out, loss


def _update_first(model, optimizer, loss_fn, x, y):
    optimizer.step()
    out = model.forward(x)
    loss, dout = loss_fn(out, y)
    model.backward(dout)
    return out, loss


def _no_backward(model, optimizer, loss_fn, x, y):
    out = model.forward(x)
    loss, _ = loss_fn(out, y)
    optimizer.step()
    return out, loss


def _backward_of(which):
    def training_step(model, optimizer, loss_fn, x, y):
        out = model.forward(x)
        loss, _ = loss_fn(out, y)
        model.backward({"loss": loss, "out": out}[which])
        optimizer.step()
        return out, loss
    return training_step


def _arguments_swapped(model, optimizer, loss_fn, x, y):
    out = model.forward(x)
    loss, dout = loss_fn(y, out)
    model.backward(dout)
    optimizer.step()
    return out, loss


def _forward_again(model, optimizer, loss_fn, x, y):  # reports the loss after the update
    out = model.forward(x)
    _, dout = loss_fn(out, y)
    model.backward(dout)
    optimizer.step()
    out = model.forward(x)
    return out, loss_fn(out, y)[0]


def _two_updates(model, optimizer, loss_fn, x, y):
    out = model.forward(x)
    loss, dout = loss_fn(out, y)
    model.backward(dout)
    optimizer.step()
    optimizer.step()
    return out, loss


def _returns(which):
    def training_step(model, optimizer, loss_fn, x, y):
        out = model.forward(x)
        loss, dout = loss_fn(out, y)
        model.backward(dout)
        optimizer.step()
        return {"swapped": (loss, out), "dout": (out, dout), "loss only": loss}[which]
    return training_step


def _float_loss(model, optimizer, loss_fn, x, y):
    out = model.forward(x)
    loss, dout = loss_fn(out, y)
    model.backward(dout)
    optimizer.step()
    return out, float(loss)


def _one_line_each(model, optimizer, loss_fn, x, y):
    result = loss_fn(out := model.forward(x), y)
    model.backward(result[1])
    optimizer.step()
    return out, result[0]


WRONG = {
    "training_step": {
        "the update forgotten": _no_update,
        "the update before the backward pass": _update_first,
        "the backward pass forgotten": _no_backward,
        "backward given the loss": _backward_of("loss"),
        "backward given the outputs": _backward_of("out"),
        "loss_fn(y, out)": _arguments_swapped,
        "a second forward after the update": _forward_again,
        "two updates": _two_updates,
        "returns (loss, out)": _returns("swapped"),
        "returns dout for the loss": _returns("dout"),
        "returns the loss only": _returns("loss only"),
    },
}

RIGHT = {
    "training_step": {
        "the loss as a Python float": _float_loss,
        "the loss's pair kept whole": _one_line_each,
    },
}
