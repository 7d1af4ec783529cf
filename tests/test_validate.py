from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphssl.data import load_dataset, make_csbm, validate


def _graph(num_nodes: int = 5) -> Data:
    """A path graph ``0 - 1 - ... - n-1`` (both directions) with features and edge features."""
    src = torch.arange(num_nodes - 1)
    edge_index = torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], dim=1)
    return Data(
        x=torch.randn(num_nodes, 3),
        edge_index=edge_index,
        edge_attr=torch.randn(edge_index.size(1), 2),
    )


def _batch() -> Batch:
    return Batch.from_data_list([_graph(4), _graph(3), _graph(5)])


def test_valid_inputs_pass():
    assert validate(_graph()) is None
    assert validate(_batch()) is None
    assert validate(make_csbm(num_nodes=200)) is None
    empty_edges = Data(x=torch.randn(3, 2), edge_index=torch.empty(2, 0, dtype=torch.long))
    validate(empty_edges)
    featureless = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=4)
    validate(featureless)


def test_does_not_modify_input():
    data = _graph()
    before = {key: value.clone() for key, value in data.items()}
    validate(data)
    assert all(torch.equal(before[key], value) for key, value in data.items())


def test_not_a_graph():
    with pytest.raises(TypeError, match="Data or Batch"):
        validate({"edge_index": torch.zeros(2, 1, dtype=torch.long)})


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32])
def test_edge_index_dtype(dtype):
    data = _graph()
    data.edge_index = data.edge_index.to(dtype)
    with pytest.raises(TypeError, match=r"data\.edge_index must have dtype torch\.int64"):
        validate(data)


def test_edge_index_shape():
    data = _graph()
    data.edge_index = torch.zeros(3, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"shape \[2, num_edges\], got \[3, 4\]"):
        validate(data)
    data.edge_index = _graph().edge_index.t().contiguous()
    with pytest.raises(ValueError, match="transposed"):
        validate(data)


def test_edge_index_missing():
    data = Data(x=torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"edge_index is missing.*\[2, 0\]"):
        validate(data)


def test_negative_index_names_first_bad_column():
    data = _graph()
    data.edge_index[1, 3] = -1
    data.edge_index[0, 6] = -2
    with pytest.raises(ValueError) as info:
        validate(data, name="view1")
    message = str(info.value)
    assert "view1.edge_index" in message
    assert "2 column(s)" in message
    assert "column 3: (3, -1)" in message


def test_index_beyond_num_nodes():
    data = _graph(5)
    data.edge_index[0, 2] = 5
    with pytest.raises(ValueError, match=r"outside \[0, 5\).*column 2: \(5, "):
        validate(data)


def test_x_rows_mismatch():
    data = _graph(5)
    data.num_nodes = 6
    with pytest.raises(ValueError, match=r"x has 5 rows but the graph has num_nodes=6"):
        validate(data)


def test_edge_attr_rows_mismatch():
    data = _graph(5)
    data.edge_attr = data.edge_attr[:-1]
    with pytest.raises(ValueError, match=r"edge_attr has 7 rows but edge_index has 8 edges"):
        validate(data)


def test_nan_in_x_counts_and_first_row():
    data = _graph(8)
    data.x[5, 1] = float("nan")
    data.x[7, 0] = float("inf")
    data.x[7, 2] = float("nan")
    with pytest.raises(ValueError) as info:
        validate(data)
    message = str(info.value)
    assert "data.x has 3 non-finite value(s) (2 NaN, 1 inf) in 2 row(s)" in message
    assert "first is row 5" in message


def test_inf_in_edge_attr():
    data = _graph()
    data.edge_attr[4, 0] = -float("inf")
    with pytest.raises(ValueError, match=r"edge_attr has 1 non-finite.*first is row 4"):
        validate(data)


def test_integer_features_are_not_checked_for_nan():
    data = _graph()
    data.x = torch.randint(0, 5, (5, 9))  # e.g. OGB molecule atom features
    validate(data)


def test_empty_graph():
    data = Data(x=torch.empty(0, 3), edge_index=torch.empty(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty graph"):
        validate(data)


def test_batch_length_mismatch():
    batch = _batch()
    batch.batch = batch.batch[:-1]
    with pytest.raises(ValueError, match=r"batch must be a vector of length num_nodes=12"):
        validate(batch)


def test_batch_dtype():
    batch = _batch()
    batch.batch = batch.batch.int()
    with pytest.raises(TypeError, match=r"batch must have dtype torch\.int64"):
        validate(batch)


def test_batch_not_sorted():
    batch = _batch()
    batch.batch[1] = 2  # nodes: 0, 2, 0, 0, ...
    with pytest.raises(ValueError, match=r"sorted.*node 2 has graph id 0 after graph id 2"):
        validate(batch)


def test_ptr_inconsistent():
    batch = _batch()
    batch.ptr = torch.tensor([0, 4, 8, 12])  # true: [0, 4, 7, 12]
    with pytest.raises(ValueError, match=r"ptr\[2\] = 8 but the node counts in batch give 7"):
        validate(batch)


def test_edge_joining_two_graphs():
    batch = _batch()
    batch.edge_index[1, 0] = 5  # node 0 (graph 0) -> node 5 (graph 1)
    with pytest.raises(ValueError) as info:
        validate(batch)
    assert "joining two different graphs" in str(info.value)
    assert "column 0: (0, 5) joins graph 0 to graph 1" in str(info.value)


def test_real_batches_pass(datasets_root, tmp_path):
    cora = load_dataset("Cora", datasets_root, cache_dir=tmp_path)
    validate(cora[0], name="cora")
    mutag = load_dataset("MUTAG", datasets_root, cache_dir=tmp_path)
    validate(Batch.from_data_list(mutag[:64]), name="mutag")
